"""Events for the central system: one frozen class per kind, named as on the wire.

They go to the outbox in the same transaction as the new state. They carry
owner keys, never ID numbers or codes. ``EVENT_TYPES`` maps wire names to
classes for decoding.

A field that takes one of a closed set of words is a ``StrEnum`` (its value is
what goes on the wire); the AsyncAPI event schema lists every value, generated
from these classes (``locker_host/app/event_schema.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from .identity import OwnerRef
from .ids import ApplicationNumber, CompartmentId, DepartmentId, ItemId, OpenId, StaffId
from .opens import Outcome, Purpose


class AbandonReason(StrEnum):
    """Why a drop-off ended without a dossier."""

    CLOSED_EMPTY = "closed_empty"  # the door closed with nothing inside
    NOT_OPENED = "not_opened"  # the door never opened (jammed)
    OUTCOME_UNKNOWN = "outcome_unknown"  # a restart lost what happened


class LoadFailure(StrEnum):
    """Why loading a certificate failed; the compartment stays reserved."""

    CLOSED_EMPTY = "closed_empty"  # the door closed with nothing inside
    NOT_CONFIRMED = "not_confirmed"  # no item sensor, and nobody confirmed the load
    JAMMED = "jammed"  # the door never opened


class LockoutScope(StrEnum):
    """What a run of wrong pickup codes locked out."""

    LOCKER = "locker"  # code entry at this locker, for everybody
    OWNER = "owner"  # code entry for one owner's items


@dataclass(frozen=True)
class _Event:
    name: ClassVar[str]


@dataclass(frozen=True)
class DossierDeposited(_Event):
    name = "dossier.deposited"
    compartment: CompartmentId
    receipt: ItemId
    department: DepartmentId
    owner: OwnerRef | None
    application: ApplicationNumber | None
    confirmed: bool


@dataclass(frozen=True)
class DropoffAbandoned(_Event):
    name = "dropoff.abandoned"
    compartment: CompartmentId
    department: DepartmentId
    reason: AbandonReason


@dataclass(frozen=True)
class DossierCollected(_Event):
    name = "dossier.collected"
    compartment: CompartmentId
    receipt: ItemId
    department: DepartmentId
    staff_id: StaffId


@dataclass(frozen=True)
class DossierNotCollected(_Event):
    name = "dossier.not_collected"
    compartment: CompartmentId
    receipts: tuple[ItemId, ...]


@dataclass(frozen=True)
class DossierReminder(_Event):
    name = "dossier.reminder"
    compartment: CompartmentId
    receipt: ItemId
    department: DepartmentId
    deadline_wall_s: float


@dataclass(frozen=True)
class DossierOverdue(_Event):
    name = "dossier.overdue"
    compartment: CompartmentId
    receipt: ItemId
    department: DepartmentId
    deadline_wall_s: float


@dataclass(frozen=True)
class CertificateReserved(_Event):
    name = "certificate.reserved"
    compartment: CompartmentId
    application: ItemId
    department: DepartmentId
    owner: OwnerRef


@dataclass(frozen=True)
class CertificateLoaded(_Event):
    name = "certificate.loaded"
    compartment: CompartmentId
    application: ItemId
    department: DepartmentId
    owner: OwnerRef | None
    confirmed: bool


@dataclass(frozen=True)
class CertificateLoadFailed(_Event):
    name = "certificate.load_failed"
    compartment: CompartmentId
    applications: tuple[ItemId, ...]
    reason: LoadFailure


@dataclass(frozen=True)
class CertificateCollected(_Event):
    name = "certificate.collected"
    compartment: CompartmentId
    application: ItemId
    owner: OwnerRef | None
    with_code: bool


@dataclass(frozen=True)
class CertificateNotTaken(_Event):
    name = "certificate.not_taken"
    compartment: CompartmentId
    applications: tuple[ItemId, ...]


@dataclass(frozen=True)
class CertificateReminder(_Event):
    name = "certificate.reminder"
    compartment: CompartmentId
    application: ItemId
    owner: OwnerRef | None
    deadline_wall_s: float


@dataclass(frozen=True)
class CertificateOverdue(_Event):
    name = "certificate.overdue"
    compartment: CompartmentId
    application: ItemId
    department: DepartmentId
    owner: OwnerRef | None
    deadline_wall_s: float


@dataclass(frozen=True)
class CertificateRecalled(_Event):
    name = "certificate.recalled"
    compartment: CompartmentId
    application: ItemId
    department: DepartmentId
    staff_id: StaffId


@dataclass(frozen=True)
class CertificateNotRecalled(_Event):
    name = "certificate.not_recalled"
    compartment: CompartmentId
    applications: tuple[ItemId, ...]


@dataclass(frozen=True)
class CertificateCancelled(_Event):
    name = "certificate.cancelled"
    compartment: CompartmentId
    application: ItemId
    was_loaded: bool


@dataclass(frozen=True)
class DeadlineExtended(_Event):
    name = "certificate.deadline_extended"
    compartment: CompartmentId
    application: ItemId
    deadline_wall_s: float


@dataclass(frozen=True)
class ItemRemoved(_Event):
    """An item left through an audited open that was not meant for it (maintenance, remote)."""

    name = "item.removed"
    compartment: CompartmentId
    item: ItemId
    open_id: OpenId
    purpose: Purpose


@dataclass(frozen=True)
class DoorForced(_Event):
    name = "door.forced"
    compartment: CompartmentId


@dataclass(frozen=True)
class DoorAjar(_Event):
    name = "door.ajar"
    compartment: CompartmentId


@dataclass(frozen=True)
class ItemUnexpected(_Event):
    name = "item.unexpected"
    compartment: CompartmentId


@dataclass(frozen=True)
class ItemMissing(_Event):
    name = "item.missing"
    compartment: CompartmentId
    items: tuple[ItemId, ...]


@dataclass(frozen=True)
class BoardOffline(_Event):
    name = "board.offline"
    board: str


@dataclass(frozen=True)
class BoardOnline(_Event):
    name = "board.online"
    board: str


@dataclass(frozen=True)
class OpenOpened(_Event):
    name = "open.opened"
    compartment: CompartmentId
    open_id: OpenId
    purpose: Purpose
    outcome: Outcome


@dataclass(frozen=True)
class OpenJammed(_Event):
    name = "open.jammed"
    compartment: CompartmentId
    open_id: OpenId
    purpose: Purpose


@dataclass(frozen=True)
class OpenOutcomeUnknown(_Event):
    name = "open.outcome_unknown"
    compartment: CompartmentId
    open_id: OpenId
    purpose: Purpose


@dataclass(frozen=True)
class CompartmentOutOfService(_Event):
    name = "compartment.out_of_service"
    compartment: CompartmentId
    reason: str


@dataclass(frozen=True)
class CompartmentInService(_Event):
    name = "compartment.in_service"
    compartment: CompartmentId
    reason: str


@dataclass(frozen=True)
class CodeEntryLockedOut(_Event):
    name = "code_entry.locked_out"
    scope: LockoutScope
    lockout_s: float


@dataclass(frozen=True)
class DropoffExpected(_Event):
    name = "dropoff.expected"
    application: ApplicationNumber
    department: DepartmentId


@dataclass(frozen=True)
class DropoffCodeExpired(_Event):
    name = "dropoff_code.expired"
    application: ApplicationNumber


@dataclass(frozen=True)
class LockerRestarted(_Event):
    name = "locker.restarted"
    unknown_outcomes: int


Event = (
    DossierDeposited
    | DropoffAbandoned
    | DossierCollected
    | DossierNotCollected
    | DossierReminder
    | DossierOverdue
    | CertificateReserved
    | CertificateLoaded
    | CertificateLoadFailed
    | CertificateCollected
    | CertificateNotTaken
    | CertificateReminder
    | CertificateOverdue
    | CertificateRecalled
    | CertificateNotRecalled
    | CertificateCancelled
    | DeadlineExtended
    | ItemRemoved
    | DoorForced
    | DoorAjar
    | ItemUnexpected
    | ItemMissing
    | BoardOffline
    | BoardOnline
    | OpenOpened
    | OpenJammed
    | OpenOutcomeUnknown
    | CompartmentOutOfService
    | CompartmentInService
    | CodeEntryLockedOut
    | DropoffExpected
    | DropoffCodeExpired
    | LockerRestarted
)

EVENT_TYPES: dict[str, type[_Event]] = {cls.name: cls for cls in _Event.__subclasses__()}
