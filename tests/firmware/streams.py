"""Hypothesis streams of what can happen to a board: frames (valid requests
for every function and register, garbage, truncated, bad CRC, other units,
broadcasts), input changes, time, power cycles and stalls; and `play`, which
runs one through a RemoteBoard (either interpreter) and shows each step to
an observer.

Time is MicroPython's ticks_us: it starts anywhere, sometimes just before
the 2**30 wrap, and every `now` sent is taken modulo the period.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from firmware.core.ticks import TICKS_MASK, TICKS_PERIOD
from protocol import reference_board as rb
from protocol.crc import with_crc
from simulator.micropython import RemoteBoard

STEP_US = 3_000  # between two operations: more than any t3.5
CHANNELS = (1, 16, 17, 24, 48)


def budget(default: int) -> settings:
    """`default` examples, or more when LOCKER_FUZZ_EXAMPLES asks for more
    (./run.sh reliability); no deadline (speed is bench/'s business)."""
    return settings(
        max_examples=max(default, int(os.environ.get("LOCKER_FUZZ_EXAMPLES", "0"))),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@dataclass(frozen=True)
class Frame:
    data: bytes


@dataclass(frozen=True)
class Unlock:
    """A valid FC06 to the board's current unit: channel (0-based), pulse ms."""

    channel: int
    ms: int


@dataclass(frozen=True)
class Poll:
    """The host's status read, to the board's current unit."""


@dataclass(frozen=True)
class Ack:
    """The host reads the change counter and acknowledges it at once (or a
    stale value, `late` us later)."""

    late: int


@dataclass(frozen=True)
class Inputs:
    door: tuple[int, ...]
    item: tuple[int, ...]
    feedback: tuple[int, ...]


@dataclass(frozen=True)
class Advance:
    us: int


@dataclass(frozen=True)
class AdvanceToWait:
    """Run the loop exactly when the board said it has work again."""


@dataclass(frozen=True)
class Power:
    pass


@dataclass(frozen=True)
class Stall:
    pass


Op = Frame | Unlock | Poll | Ack | Inputs | Advance | AdvanceToWait | Power | Stall

units = st.sampled_from([1, 1, 1, 0, 2, 17, 247])
words16 = st.integers(0, 0xFFFF)
_addresses = st.one_of(
    st.integers(0, 8),
    st.integers(rb.IR_STATUS - 1, rb.IR_STATUS + 16),
    st.integers(rb.HR_UNLOCK_BASE - 1, rb.HR_UNLOCK_BASE + 49),
    words16,
)
_values = st.one_of(
    st.sampled_from(
        [0, 1, 7, 8, 49, 50, 51, 247, 248, 500, 0x0104, 0x0401, 0x0A11, 10_000, 10_001]
    ),
    st.integers(0, 40),
    words16,
)
_counts = st.one_of(
    st.integers(1, 14), st.integers(0, 16), st.sampled_from([123, 124, 125, 126]), words16
)


def _frame(unit: int, body: bytes) -> bytes:
    return with_crc(bytes((unit,)) + body)


def _read(unit: int, address: int, count: int) -> bytes:
    return _frame(unit, struct.pack(">BHH", 4, address, count))


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    """A well-formed frame (valid CRC) for any function, register and value."""
    unit = draw(units)
    kind = draw(st.sampled_from(["read", "read", "write", "write", "multiple", "other"]))
    if kind == "read":
        function = draw(st.sampled_from([3, 4]))
        return _frame(unit, struct.pack(">BHH", function, draw(_addresses), draw(_counts)))
    if kind == "write":
        return _frame(unit, struct.pack(">BHH", 6, draw(_addresses), draw(_values)))
    if kind == "multiple":
        values = draw(st.lists(_values, min_size=0, max_size=6))
        count = draw(st.one_of(st.just(len(values)), _counts))
        byte_count = draw(st.one_of(st.just(2 * len(values)), st.integers(0, 255)))
        body = struct.pack(">BHHB", 16, draw(_addresses), count, byte_count & 0xFF)
        return _frame(unit, body + b"".join(struct.pack(">H", v) for v in values))
    function = draw(st.integers(0, 255))
    return _frame(unit, bytes((function,)) + draw(st.binary(max_size=8)))


@st.composite
def spoilt(draw: st.DrawFn) -> bytes:
    frame = draw(requests())
    how = draw(st.sampled_from(["truncated", "crc", "longer"]))
    if how == "truncated":
        return frame[: draw(st.integers(1, len(frame) - 1))]
    if how == "crc":
        at = draw(st.integers(0, len(frame) - 1))
        return frame[:at] + bytes((frame[at] ^ draw(st.integers(1, 255)),)) + frame[at + 1 :]
    return frame + draw(st.binary(min_size=1, max_size=4))


frames = st.one_of(
    requests(),
    requests(),
    spoilt(),
    st.binary(min_size=1, max_size=300),  # garbage, up to past the 256-byte frame limit
).map(Frame)


def inputs(words: int) -> st.SearchStrategy[Inputs]:
    field = st.tuples(*[words16] * words)
    return st.builds(Inputs, field, field, field)


def operations(channels: int, *, stalls: bool = True) -> st.SearchStrategy[list[Op]]:
    words = (channels + 15) // 16
    choices: list[st.SearchStrategy[Op]] = [
        frames,
        frames,
        frames,
        st.just(Poll()),
        st.builds(Ack, st.sampled_from([0, 0, 5_000, 25_000])),
        st.builds(Unlock, st.integers(0, channels - 1), st.integers(rb.PULSE_MIN_MS, 12_000)),
        inputs(words),
        inputs(words),
        st.builds(Advance, st.one_of(st.integers(0, 30_000), st.integers(0, 12_000_000))),
        st.just(AdvanceToWait()),
        st.just(Power()),
    ]
    if stalls:
        choices.append(st.just(Stall()))
    return st.lists(st.one_of(*choices), min_size=8, max_size=60)


starts = st.sampled_from([0, 123_456, TICKS_PERIOD - 5_000_000, TICKS_PERIOD - 20_000])


def play(
    board: RemoteBoard,
    ops: list[Op],
    start: int,
    observe: Callable[[Op, int, bytes | None], None] = lambda op, now, reply: None,
) -> int:
    """Run `ops` on `board` from `start` (us, unwrapped); `observe(op, now, reply)`
    after each. The unwrapped time of the last one."""
    now = start
    for op in ops:
        now += STEP_US
        reply = None
        ticks = now & TICKS_MASK
        match op:
            case Frame(data):
                reply = board.deliver(data, ticks)
            case Unlock(channel, ms):
                frame = _frame(board.unit, struct.pack(">BHH", 6, rb.HR_UNLOCK_BASE + channel, ms))
                reply = board.deliver(frame, ticks)
            case Poll():
                reply = board.deliver(
                    _read(board.unit, rb.IR_STATUS, 2 + 4 * len(board.coils)), ticks
                )
            case Ack(late):
                counter = board.deliver(_read(board.unit, rb.IR_STATUS + 1, 1), ticks)
                value = counter[3] << 8 | counter[4] if counter else 0
                now += late
                ack = _frame(board.unit, struct.pack(">BHH", 6, rb.HR_ACK, value))
                reply = board.deliver(ack, now & TICKS_MASK)
            case Inputs(door, item, feedback):
                board.set_inputs(list(door), list(item), list(feedback), ticks)
            case Advance(us):
                now += us
                board.advance(now & TICKS_MASK)
            case AdvanceToWait():
                now += max(board.wait_us(), 0)
                board.advance(now & TICKS_MASK)
            case Power():
                board.power_up(ticks)
            case Stall():
                board.stall(ticks)
        observe(op, now, reply)
    return now
