"""The locker aggregate's state, its fixed configuration, and the clock reading.

``LockerState`` is everything that changes and is persisted (as one JSON
document, ``serde.py``); ``LockerConfig`` is what the operator configures and is
not persisted with it; ``Now`` is passed into every decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .compartment import Compartment
from .identity import OwnerRef
from .ids import ApplicationNumber, CompartmentId, DepartmentId, OpenId
from .layout import BoardRef, Layout, Size
from .opens import Open
from .pickup_codes import CodeDigest, CodeGuard
from .policy import LockerPolicy


@dataclass(frozen=True)
class Now:
    """One reading of both clocks.

    ``mono_s`` (monotonic, seconds) times opens, doors and lockouts; it restarts
    with the process. ``wall_s`` (epoch seconds) times business deadlines; while
    ``clock_trusted`` is false (not synchronised yet) deadline actions wait.
    """

    mono_s: float
    wall_s: float
    clock_trusted: bool


@dataclass(frozen=True)
class LockerConfig:
    site: str
    locker: str
    layout: Layout
    policy: LockerPolicy = field(default_factory=LockerPolicy)


class BoardStatus(StrEnum):
    UNKNOWN = "unknown"  # not read since start-up
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True)
class DropoffExpectation:
    application: ApplicationNumber
    department: DepartmentId
    size: Size
    code: CodeDigest
    expires_wall_s: float
    owner: OwnerRef | None = None
    open_id: OpenId | None = None  # a drop-off with this code is under way


@dataclass(frozen=True)
class AlarmAck:
    """Someone has seen an alarm (alarms.py); the cause is still there."""

    by: str  # who, as the front door names them (``http:ops-desk``)
    at_wall_s: float


@dataclass(frozen=True)
class LockerState:
    compartments: Mapping[CompartmentId, Compartment]
    opens: Mapping[OpenId, Open] = field(default_factory=dict)
    boards: Mapping[str, BoardStatus] = field(default_factory=dict)
    dropoffs: tuple[DropoffExpectation, ...] = ()
    code_guard: CodeGuard = field(default_factory=CodeGuard)
    next_open_seq: int = 1
    next_receipt_seq: int = 1
    # Alarm id -> its acknowledgement, only while the alarm lasts (alarms.prune_acks).
    alarm_acks: Mapping[str, AlarmAck] = field(default_factory=dict)


def initial_state(config: LockerConfig) -> LockerState:
    return LockerState(
        compartments={spec.id: Compartment(spec.id) for spec in config.layout},
        boards={board.key: BoardStatus.UNKNOWN for board in config.layout.boards()},
    )


def board_online(state: LockerState, board: BoardRef) -> bool:
    return state.boards.get(board.key) is BoardStatus.ONLINE


def board_unseen(state: LockerState, board: BoardRef) -> bool:
    """Not read since start-up (neither answered nor given up on)."""
    return state.boards.get(board.key, BoardStatus.UNKNOWN) is BoardStatus.UNKNOWN
