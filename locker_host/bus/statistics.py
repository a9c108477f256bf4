"""Counters behind `BusOwner.statistics()`: mutable here, frozen on the way out.

The figures the timing notes ask for (modbus-timing 2.5 point 6): round
trips per board (with a histogram), timeouts, CRC errors, cycle time, and
the shortest inter-frame silence this host left, measured on its own clock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from protocol import BusFault, FaultKind

from .errors import PortError, PortLost
from .model import (
    BoardId,
    BoardStatistics,
    BusStatistics,
    Health,
    PortState,
    PortStatus,
    RoundTrips,
)
from .transaction import Attempt, Sent

# Upper bounds in seconds; the extra, last bucket is everything above.
HISTOGRAM_BOUNDS = (0.002, 0.005, 0.010, 0.020, 0.050, 0.100, 0.200)


@dataclass(slots=True)
class _RoundTrips:
    count: int = 0
    total: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    last: float | None = None
    buckets: list[int] = field(default_factory=lambda: [0] * (len(HISTOGRAM_BOUNDS) + 1))

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        self.minimum = seconds if self.minimum is None else min(self.minimum, seconds)
        self.maximum = seconds if self.maximum is None else max(self.maximum, seconds)
        self.last = seconds
        index = next((i for i, b in enumerate(HISTOGRAM_BOUNDS) if seconds <= b), -1)
        self.buckets[index] += 1

    def frozen(self) -> RoundTrips:
        bounds = (*HISTOGRAM_BOUNDS, float("inf"))
        return RoundTrips(
            self.count,
            self.minimum,
            self.total / self.count if self.count else None,
            self.maximum,
            self.last,
            tuple(zip(bounds, self.buckets, strict=True)),
        )


@dataclass(slots=True)
class _Board:
    transactions: int = 0
    replies: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    round_trips: _RoundTrips = field(default_factory=_RoundTrips)
    last_read_at: float | None = None


class Recorder:
    def __init__(self, bus: str, port_path: str, boards: list[BoardId]) -> None:
        self._bus = bus
        self._path = port_path
        self._boards = {b: _Board() for b in boards}
        self._faults: Counter[str] = Counter()
        self._unlocks: Counter[str] = Counter()
        self._transactions = self._replies = self._retries = 0
        self._stray = self._noise = 0
        self._shortest_gap: float | None = None
        self._port_state = PortState.CLOSED
        self._low_latency = False
        self._opens = self._failed_opens = self._losses = 0
        self._last_error: PortError | None = None
        self._cycle_seen: set[BoardId] = set()
        self._cycle_end: float | None = None
        self._cycle_last: float | None = None
        self._cycle_max: float | None = None

    # -- events ----------------------------------------------------------------

    def attempt(self, board: BoardId, attempt: Attempt) -> None:
        stats = self._boards[board]
        self._transactions += 1
        stats.transactions += 1
        self._stray += attempt.stray_bytes
        self._noise += attempt.noise_bytes
        if self._shortest_gap is None or attempt.gap < self._shortest_gap:
            self._shortest_gap = attempt.gap
        outcome = attempt.outcome
        if isinstance(outcome, Sent):
            return  # nothing to wait for, nothing to count but the transaction
        answered = not isinstance(outcome, BusFault) or outcome.kind is FaultKind.EXCEPTION_REPLY
        if answered:
            self._replies += 1
            stats.replies += 1
        if isinstance(outcome, BusFault):
            self._faults[outcome.kind.value] += 1
            stats.faults[outcome.kind.value] += 1
        elif attempt.round_trip is not None:
            stats.round_trips.add(attempt.round_trip)

    def retried(self) -> None:
        self._retries += 1

    def unlocked(self, outcome: str) -> None:
        self._unlocks[outcome] += 1

    def read(self, board: BoardId, now: float, active: set[BoardId]) -> None:
        """A successful read of `board`; `active`: the boards a cycle must visit."""
        self._boards[board].last_read_at = now
        self._cycle_seen.add(board)
        if not active <= self._cycle_seen:
            return
        if self._cycle_end is not None:
            cycle = now - self._cycle_end
            self._cycle_last = cycle
            self._cycle_max = cycle if self._cycle_max is None else max(self._cycle_max, cycle)
        self._cycle_end = now
        self._cycle_seen = set()

    def port_opened(self, low_latency: bool) -> None:
        self._port_state = PortState.OPEN
        self._low_latency = low_latency
        self._opens += 1

    def port_failed(self, error: PortError) -> None:
        self._port_state = PortState.DOWN
        self._last_error = error
        if isinstance(error, PortLost):
            self._losses += 1
        else:
            self._failed_opens += 1

    def port_closed(self) -> None:
        self._port_state = PortState.CLOSED

    # -- the frozen view --------------------------------------------------------------

    def frozen(self, health: dict[BoardId, Health], identity: dict[BoardId, str]) -> BusStatistics:
        error = self._last_error
        port = PortStatus(
            self._path,
            self._port_state,
            self._low_latency,
            self._opens,
            self._failed_opens,
            self._losses,
            "" if error is None else f"{error.code}: {error}",
            "" if error is None else error.cause,
        )
        boards = tuple(
            BoardStatistics(
                board,
                health[board],
                identity[board],
                s.transactions,
                s.replies,
                dict(s.faults),
                s.round_trips.frozen(),
                s.last_read_at,
            )
            for board, s in self._boards.items()
        )
        return BusStatistics(
            bus=self._bus,
            port=port,
            transactions=self._transactions,
            replies=self._replies,
            timeouts=self._faults[FaultKind.TIMEOUT.value],
            crc_errors=self._faults[FaultKind.BAD_CRC.value],
            faults=dict(self._faults),
            read_retries=self._retries,
            stray_bytes=self._stray,
            noise_bytes=self._noise,
            unlocks=dict(self._unlocks),
            cycle_time_last=self._cycle_last,
            cycle_time_max=self._cycle_max,
            shortest_gap=self._shortest_gap,
            boards=boards,
        )
