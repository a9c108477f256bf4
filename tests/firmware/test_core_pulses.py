"""Property: whatever frames, inputs and time arrive, no coil stays energised
past its pulse's deadline, no pulse lasts longer than PULSE_MAX_MS, and while
a coil is on the board names a wake-up no later than its deadline (the shell
sleeps until wait_us; a later one would leave the coil on)."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from protocol import reference_board as rb
from protocol.crc import crc_ok, with_crc
from simulator.micropython import MicroPythonHost, RemoteBoard

from .engines import Engine, in_process, under_micropython
from .streams import CHANNELS, Frame, Op, Unlock, budget, operations, play, starts

PULSE_MAX_US = rb.PULSE_MAX_MS * 1000


def _may_write(data: bytes) -> bool:
    """A frame that could restart a pulse: a whole FC06 or FC16."""
    return len(data) >= 8 and data[1] in (6, 16) and crc_ok(data)


class PulseWatch:
    """The deadlines a host can know from outside, checked at every step.

    `bound[ch]`: the latest moment any pulse of ch may still be on (the last
    frame that could have (re)started it + PULSE_MAX_MS). `exact[ch]`: the
    deadline of an acknowledged unlock write with its length, when no frame
    that could write has come since."""

    def __init__(self, board: RemoteBoard, channels: int) -> None:
        self.board = board
        self.channels = channels
        self.bound: list[int | None] = [None] * channels
        self.exact: list[int | None] = [None] * channels

    def __call__(self, op: Op, now: int, reply: bytes | None) -> None:
        board = self.board
        on = [bool(board.coils[ch >> 4] >> (ch & 15) & 1) for ch in range(self.channels)]
        if isinstance(op, Frame | Unlock) and (isinstance(op, Unlock) or _may_write(op.data)):
            for ch in range(self.channels):
                if on[ch]:
                    self.bound[ch] = now + PULSE_MAX_US
                self.exact[ch] = None
            if isinstance(op, Unlock) and reply is not None and reply[1] == 6 and on[op.channel]:
                self.exact[op.channel] = now + op.ms * 1000
        wake = now + board.wait_us()
        for ch in range(self.channels):
            if not on[ch]:
                continue
            bound, exact = self.bound[ch], self.exact[ch]
            assert bound is not None and now < bound, f"channel {ch + 1} on past PULSE_MAX_MS"
            assert exact is None or now < exact, f"channel {ch + 1} on past its deadline"
            assert board.wait_us() >= 0, "a coil is on and the board wants no wake-up"
            assert wake <= min(bound, exact or bound), f"channel {ch + 1}: wake-up too late"

    def drain(self, now: int) -> None:
        """Sleep from wake-up to wake-up, as the shell does, until every coil is off."""
        for _ in range(1000):
            if not any(self.board.coils):
                return
            now += self.board.wait_us()
            self.board.advance(now & 0x3FFF_FFFF)
            self(Frame(b""), now, None)
        raise AssertionError("the coils never went off")


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, int, list[Op]]:
    channels = draw(st.sampled_from(CHANNELS))
    # no stalls here: a hung loop ends pulses only through the watchdog (test_core_watchdog)
    return channels, draw(starts), draw(operations(channels, stalls=False))


def check(engine: Engine, scenario: tuple[int, int, list[Op]]) -> None:
    channels, start, ops = scenario
    with engine:
        board = engine.board(channels, now=start)
        watch = PulseWatch(board, channels)
        watch.drain(play(board, ops, start, watch))


@budget(1000)
@given(scenarios())
def test_no_coil_outlives_its_pulse_cpython(scenario: tuple[int, int, list[Op]]) -> None:
    check(in_process(), scenario)


@budget(200)
@given(scenarios())
def test_no_coil_outlives_its_pulse_micropython(
    micropython: MicroPythonHost, scenario: tuple[int, int, list[Op]]
) -> None:
    check(under_micropython(micropython), scenario)


def test_a_pulse_ends_exactly_at_its_deadline(engine: Engine) -> None:
    board = engine.board()
    frame = struct.pack(">BBHH", 1, 6, rb.HR_UNLOCK_BASE + 2, 200)
    assert board.deliver(with_crc(frame), 1_000_000) is not None
    assert board.coils == [0b100, 0]
    board.advance(1_199_999)
    assert board.coils == [0b100, 0]
    board.advance(1_200_000)
    assert board.coils == [0, 0]
