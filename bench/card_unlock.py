"""Card decoded by the reader adapter -> first byte of the unlock frame on the wire.

The path measured is the reader adapter (`locker_host.readers`, the SAM_V
reader on the simulator's own card-reader pty) plus a minimal composition
in this process: each `CardPresented` reading is turned into
`BusOwner.unlock()` of the next compartment in turn, while the owner polls
the eight boards flat out. The daemon's own composition (`lockerd`: the
service layer, its SQLite commit, the domain's decision) is NOT in this
path: the daemon was not committed when this benchmark was written.

Start: `time.monotonic()` taken on the reader's thread the moment the SAM
session hands back the decoded reading (a thin wrapper around
`SamSession.poll`; nothing in the adapter is changed). End: the simulator's
`request_start` of the FC06 unlock write to that board, on the same
CLOCK_MONOTONIC. The reader thread -> event loop hand-over
(`call_soon_threadsafe`) is inside the interval and also reported alone.

Bound (the issue): the longest transaction on this bus (a status poll: its
bytes, both t3.5 and the turnaround) + the unlock frame's wire time (8 bytes)
+ 5 ms.

One swipe: `swipe` (card held until removed), wait for the reading, unlock,
`remove_card`, then wait until the reader has answered "no card" once (the
adapter reads a card again only after it has left the field).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from locker_host.bus import BoardId, BusOwner, UnlockOutcome
from locker_host.domain import Keyring
from locker_host.readers import (
    Backoff,
    CardPresented,
    ReaderFault,
    Reading,
    SamConfig,
    SamTiming,
    SerialSettings,
    ThreadedReader,
)
from locker_host.readers.sam import SamSession
from locker_host.readers.serial_port import SerialDevice
from protocol import reference_board as rb
from protocol.modbus import encode_request, reply_length
from protocol.timing import SerialFormat

from .dist import Dist
from .harness import RunningSim
from .sim_log import SimLog
from .wire_time import control

RESIDENT = "11010519491231002X"  # the GB 11643 example number
OWNER_KEYS = Keyring({1: b"bench-owner-secret-0123456789"}, current=1)
# The reader's idle find period: field drivers use 0.3-1 s; shorter here only
# so that 200 swipes fit the run. It decides when a card is found, not how
# long a decoded card takes to reach the bus.
# repeat_hold below two polls: the same card lifted and placed again is a new
# placement here (lockerd's 3 s would drop the next swipe as the same one).
READER_TIMING = SamTiming(poll_interval=0.03, repeat_hold=0.01)
PULSE_MS = 100
TURNAROUND = 0.001


@dataclass(frozen=True)
class CardResult:
    n: int
    latency: Dist  # card decoded -> unlock request on the wire
    hop: Dist  # reader thread -> event loop
    bound_ms: float
    unmatched: int  # swipes whose unlock write was not found in the records
    not_acknowledged: int
    reader_faults: int


class _StampedSession:
    """A SamSession that notes when it hands back a decoded card."""

    def __init__(self, inner: SamSession, stamps: deque[float]) -> None:
        self._inner = inner
        self._stamps = stamps

    @property
    def healthy(self) -> bool:
        return self._inner.healthy

    def poll(self, stop: threading.Event) -> Sequence[Reading]:
        readings = self._inner.poll(stop)
        now = time.monotonic()
        for reading in readings:
            if isinstance(reading, CardPresented):
                self._stamps.append(now)
        return readings

    def close(self) -> None:
        self._inner.close()


def reader_path(sim: RunningSim) -> str:
    # harness.locker_sim runs the default layout with --run-dir next to --link
    return str(Path(sim.serial_path).parent / "ttyIDCARD0")


def _reader(sim: RunningSim, stamps: deque[float]) -> ThreadedReader:
    serial = SerialSettings(reader_path(sim))
    config = SamConfig(serial, READER_TIMING)

    def open_session() -> _StampedSession:
        device = SerialDevice.open(serial)
        return _StampedSession(
            SamSession(device, OWNER_KEYS, config, "idcard", time.monotonic), stamps
        )

    return ThreadedReader("idcard", open_session, backoff=Backoff(0.05, 0.5))


def bound(fmt: SerialFormat, channels: int) -> float:
    """Seconds: the longest transaction + the unlock frame + 5 ms."""
    status = rb.status_request(channels)
    longest = fmt.transaction_time(8, reply_length(status), TURNAROUND)
    unlock_frame = fmt.wire_time(len(encode_request(1, rb.unlock_request(1, channels))))
    return longest + unlock_frame + 0.005


async def _empty_finds(sim: RunningSim) -> int:
    info = await asyncio.to_thread(control, sim, {"cmd": "reader"})
    reader = info["reader"]
    assert isinstance(reader, dict), info
    counters = reader["counters"]
    return int(counters["finds"]) - int(counters["found"])


async def _next_card(readings: AsyncIterator[Reading], faults: list[ReaderFault]) -> None:
    async for reading in readings:
        if isinstance(reading, CardPresented):
            return
        if isinstance(reading, ReaderFault):
            faults.append(reading)
    raise RuntimeError("the reader stopped")


async def card_to_unlock(
    sim: RunningSim,
    owner: BusOwner,
    log: SimLog,
    fmt: SerialFormat,
    swipes: int,
    boards: int,
    channels: int,
) -> CardResult:
    stamps: deque[float] = deque()
    reader = _reader(sim, stamps)
    faults: list[ReaderFault] = []
    latencies: list[float] = []
    hops: list[float] = []
    unmatched = not_acknowledged = 0
    await reader.start()
    readings = reader.readings()
    try:
        await log.afetch()
        for i in range(swipes):
            board = BoardId(owner.config.name, 1 + i % boards)
            channel = 1 + (i * 7) % channels
            mark = log.mark()
            swipe = {"cmd": "swipe", "id_number": RESIDENT, "hold": 0}  # held until removed
            await asyncio.to_thread(control, sim, swipe)
            await asyncio.wait_for(_next_card(readings, faults), 10)
            # -- the composition: a card reading becomes an unlock ---------------
            received = time.monotonic()
            result = await owner.unlock(board, channel, PULSE_MS)
            # ------------------------------------------------------------------
            decoded = stamps.popleft()
            hops.append(received - decoded)
            if result.outcome is not UnlockOutcome.ACKNOWLEDGED:
                not_acknowledged += 1
            # the card lies on the reader: every find answers "card" until it goes
            before = await _empty_finds(sim)
            await asyncio.to_thread(control, sim, {"cmd": "remove_card"})
            await log.afetch()
            write = next(
                (
                    r
                    for r in log.records[mark:]
                    if r["function"] == 6
                    and r["unit"] == board.unit
                    and r["request_start"] >= decoded
                ),
                None,
            )
            if write is None:
                unmatched += 1
            else:
                latencies.append(write["request_start"] - decoded)
            while await _empty_finds(sim) <= before:
                await asyncio.sleep(0.01)
    finally:
        await reader.stop()
    return CardResult(
        n=len(latencies),
        latency=Dist.of(latencies),
        hop=Dist.of(hops),
        bound_ms=bound(fmt, channels) * 1000,
        unmatched=unmatched,
        not_acknowledged=not_acknowledged,
        reader_faults=len(faults),
    )
