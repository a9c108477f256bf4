"""What the HTTP API is given: the app's front doors and the daemon's figures.

The API is an adapter (DESIGN.md section 2): it imports the app and the
domain, never the bus, the readers, the store, the MQTT bridge or the daemon.
What those know reaches it through this context, which the daemon (the
composition root, ``locker_host/daemon/http.py``) builds: callables that
return the figures below, and the app's ``Presentations``, which the kiosk
endpoints call directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from locker_host.app import LockerService, OperatorDesk, Presentations

from .auth import ApiToken, Network

PAGES = Path(__file__).resolve().parent / "pages"


@dataclass(frozen=True)
class BoardFigures:
    board: str
    health: str  # unknown, online, suspect, offline
    identity: str
    transactions: int
    replies: int
    faults: Mapping[str, int]
    # Valid replies' round trips: (upper bound s, count in that bucket), last bound inf.
    round_trips: tuple[tuple[float, int], ...]
    round_trip_count: int
    round_trip_mean_s: float | None
    round_trip_max_s: float | None


@dataclass(frozen=True)
class BusFigures:
    bus: str
    port_path: str
    port_state: str  # closed, open, down
    port_losses: int
    port_last_error: str
    transactions: int
    replies: int
    faults: Mapping[str, int]  # by kind: timeout, bad_crc, ...
    unlocks: Mapping[str, int]
    cycle_time_last_s: float | None
    cycle_time_max_s: float | None
    boards: tuple[BoardFigures, ...]


@dataclass(frozen=True)
class ReaderFigures:
    name: str
    available: bool
    readings: int
    faults: int
    last_fault: str | None
    faults_by_code: Mapping[str, int] = field(default_factory=dict)  # read_failed, ...
    line: Mapping[str, int] = field(default_factory=dict)  # garbled_replies, ... (SAM)
    details: Mapping[str, str] = field(default_factory=dict)  # sam_id (SAM)


@dataclass(frozen=True)
class DepartmentName:
    """A department's id as the locker stores it, and its names by language."""

    id: str
    labels: Mapping[str, str]  # zh, en


def _no_buses() -> Sequence[BusFigures]:
    return ()


def _no_readers() -> Sequence[ReaderFigures]:
    return ()


def _no_mqtt() -> Mapping[str, Any] | None:
    return None


def _commissioned() -> bool:
    return True


@dataclass(frozen=True)
class ApiContext:
    service: LockerService
    operators: OperatorDesk
    kiosk: Presentations
    tokens: tuple[ApiToken, ...]
    kiosk_from: tuple[Network, ...]
    buses: Callable[[], Sequence[BusFigures]] = _no_buses
    readers: Callable[[], Sequence[ReaderFigures]] = _no_readers
    # The MQTT bridge's statistics (``connected`` and its counters); None: no bridge.
    mqtt: Callable[[], Mapping[str, Any] | None] = _no_mqtt
    commissioned: Callable[[], bool] = _commissioned
    departments: Sequence[DepartmentName] = ()
    pages: Path | None = field(default_factory=lambda: PAGES if PAGES.is_dir() else None)
    ping_interval_s: float = 15.0
    state_interval_s: float = 0.1  # state events are coalesced to at most one per this
