"""Who did something: the subject of every audit record and every open.

Never an ID number: a citizen is known by owner key (or only by the fact that
they presented a valid code).
"""

from __future__ import annotations

from dataclasses import dataclass

from .credentials import Assurance, StaffRole
from .identity import OwnerRef
from .ids import DepartmentId, StaffId


@dataclass(frozen=True)
class CitizenActor:
    owner: OwnerRef | None  # None: a proxy with a pickup code, or an unknown card
    assurance: Assurance | None  # None: a code only
    with_code: bool


@dataclass(frozen=True)
class StaffActor:
    staff_id: StaffId
    department: DepartmentId
    role: StaffRole


@dataclass(frozen=True)
class CentralActor:
    operator: str
    command_id: str | None = None


@dataclass(frozen=True)
class SystemActor:
    """The locker itself: timers, sensors, restarts."""

    reason: str = ""


Actor = CitizenActor | StaffActor | CentralActor | SystemActor
