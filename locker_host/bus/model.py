"""The bus adapter's own vocabulary: what it reports and what it is asked.

These are the adapter's values, not the domain's: the daemon translates a
`BoardSnapshot` into domain observations (door opened, board unreachable,
...) and an `UnlockResult` into the open's outcome. Nothing here imports
`locker_host.domain` or `locker_host.app` (DESIGN.md section 2).

Availability is kept apart from readings (Home Assistant's coordinator
pattern): `BoardSnapshot.health` says whether the board answers, `channels`
what its sensors last said. While a board is `suspect` the last readings are
carried over (with `read_at_monotonic` still naming the read they came
from); once it is `offline` every sensor is `unknown`, never `closed`
(DESIGN.md 4.7).

Times are seconds on the monotonic clock (`time.monotonic()`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


@dataclass(frozen=True, slots=True, order=True)
class BoardId:
    bus: str
    unit: int

    def __str__(self) -> str:
        return f"{self.bus}/{self.unit}"


class Health(StrEnum):
    UNKNOWN = "unknown"  # not heard from yet (start-up pending)
    ONLINE = "online"  # the last transaction got a valid reply
    SUSPECT = "suspect"  # 1..N-1 failures in a row: last readings kept
    OFFLINE = "offline"  # N failures in a row: readings unknown, probed with back-off


class DoorState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    UNKNOWN = "unknown"  # the board does not answer, or has not been read yet
    NO_SENSOR = "no_sensor"  # no door switch is wired to this channel


class ItemState(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    UNKNOWN = "unknown"
    NO_SENSOR = "no_sensor"


@dataclass(frozen=True, slots=True)
class ChannelState:
    """One compartment as its board sees it; `channel` is 1-based.

    `lock_fault` is live, as the board reports it now (reference boards: a
    settled output and its bolt's feedback disagree); it is not latched, so it
    clears once they agree again. None where the board has no lock feedback.
    `opened_since_last_poll` is True when the door was open at some moment
    since the previous reading (it may be open now); the reference board
    latches it, so an open-and-close between two polls is never missed. It
    is None for families without latches (relay modules): there a quick
    open-and-close between polls is invisible.
    """

    channel: int
    door: DoorState
    item: ItemState
    lock_fault: bool | None
    opened_since_last_poll: bool | None

    def unknown(self) -> ChannelState:
        """The same channel once its board is unreachable: nothing is known."""
        return ChannelState(
            self.channel,
            DoorState.NO_SENSOR if self.door is DoorState.NO_SENSOR else DoorState.UNKNOWN,
            ItemState.NO_SENSOR if self.item is ItemState.NO_SENSOR else ItemState.UNKNOWN,
            None,
            None if self.opened_since_last_poll is None else False,
        )

    def carried_over(self) -> ChannelState:
        """The last reading repeated while the board is suspect: the states
        stay, the latch does not (it was handed over with the read it came in)."""
        if not self.opened_since_last_poll:
            return self
        return replace(self, opened_since_last_poll=False)


@dataclass(frozen=True, slots=True)
class BoardSnapshot:
    board: BoardId
    channels: tuple[ChannelState, ...]  # channels[0] is channel 1
    health: Health
    read_at_monotonic: float | None  # the read these channels come from; None: never read
    # The board reports it powered up since the host last acknowledged
    # (reference board `reset` flag): latched changes from before are lost.
    restarted: bool = False
    detail: str = ""  # the last fault while suspect / offline, or why start-up failed
    # The board's change counter at this read (reference boards), else None: a
    # latch seen again with another counter is a new open-and-close.
    change_counter: int | None = None

    def channel(self, number: int) -> ChannelState:
        if not 1 <= number <= len(self.channels):
            raise IndexError(f"{self.board} has channels 1..{len(self.channels)}, not {number}")
        return self.channels[number - 1]


class UnlockOutcome(StrEnum):
    # The board confirmed the pulse. Not "door opened": the next reads tell
    # (Open-Locker ADR-0040, field lessons 11).
    ACKNOWLEDGED = "acknowledged"
    # The request went out but no valid reply came back. The board may have
    # pulsed; it is never re-sent (a lost reply is not a lost command), the
    # confirmation read decides.
    UNACKNOWLEDGED = "unacknowledged"
    REFUSED = "refused"  # the board answered with a Modbus exception
    BOARD_OFFLINE = "board_offline"  # nothing was sent: board offline or port down


@dataclass(frozen=True, slots=True)
class UnlockResult:
    board: BoardId
    channel: int
    outcome: UnlockOutcome
    detail: str = ""


# -- statistics (BusOwner.statistics()) -----------------------------------------


class PortState(StrEnum):
    CLOSED = "closed"  # not opened yet, or the owner stopped
    OPEN = "open"
    DOWN = "down"  # lost or could not be opened: reopened with back-off


@dataclass(frozen=True, slots=True)
class PortStatus:
    path: str
    state: PortState
    low_latency: bool  # set_low_latency_mode(True) took effect on the open port
    opens: int
    failed_opens: int
    losses: int  # an open port failed (unplugged, hung up, I/O error)
    last_error: str  # "" or the last PortError, e.g. "port_lost: /dev/ttyUSB0: hangup"
    last_error_cause: str  # PortError.cause: absent, busy, denied, io_error, hangup, ...


@dataclass(frozen=True, slots=True)
class RoundTrips:
    """Valid replies only: request handed to the driver -> the byte that
    completed the reply, seconds on the monotonic clock."""

    count: int
    minimum: float | None
    mean: float | None
    maximum: float | None
    last: float | None
    # (upper bound in seconds, replies at or below it and above the previous
    # bound); the last bound is infinity.
    histogram: tuple[tuple[float, int], ...]


@dataclass(frozen=True, slots=True)
class BoardStatistics:
    board: BoardId
    health: Health
    identity: str  # what the last probe learnt ("" before)
    transactions: int
    replies: int
    faults: dict[str, int]  # by protocol FaultKind value, timeouts included
    round_trips: RoundTrips
    last_read_at: float | None


@dataclass(frozen=True, slots=True)
class BusStatistics:
    bus: str
    port: PortStatus
    transactions: int  # requests written
    replies: int  # valid replies (exception replies included)
    timeouts: int
    crc_errors: int
    faults: dict[str, int]  # every fault by kind, timeouts and CRC errors included
    read_retries: int
    stray_bytes: int  # discarded between transactions (noise, late replies)
    noise_bytes: int  # received around valid replies
    unlocks: dict[str, int]  # by UnlockOutcome value
    # One cycle = every board that is not offline read once; the time between
    # the ends of two successive cycles.
    cycle_time_last: float | None
    cycle_time_max: float | None
    shortest_gap: float | None  # the least silence left before a request, our clock
    boards: tuple[BoardStatistics, ...]
