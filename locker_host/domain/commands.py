"""Commands: what people and the central system ask the locker to do.

Kiosk and staff commands carry a credential (``credentials.py``); central
commands match the MQTT contract (reserve, cancel, expect_dropoff,
extend_deadline, recall_list, open, set_service, inventory) and carry the
``CentralActor`` that sent them. Any command may be refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from .actors import CentralActor
from .credentials import CodeCredential, Credential, IdCredential, StaffCredential
from .identity import OwnerRef
from .ids import ApplicationNumber, CompartmentId, DepartmentId, OpenId
from .layout import Size
from .opens import Purpose
from .pickup_codes import CodeDigest

# -- at the locker -------------------------------------------------------------


@dataclass(frozen=True)
class StartDropoff:
    """A citizen drops off a dossier; a drop-off code brings its own department and size."""

    credential: IdCredential | CodeCredential
    department: DepartmentId | None = None
    size: Size | None = None
    accessible: bool = False


@dataclass(frozen=True)
class Pickup:
    credential: IdCredential | CodeCredential


@dataclass(frozen=True)
class StaffOpen:
    """A clerk's card: collect dossiers, load reserved certificates, or recall overdue ones."""

    staff: StaffCredential
    purpose: Purpose


@dataclass(frozen=True)
class StaffSwipe:
    """A clerk's card at the locker: everything of the department there is to do
    (collect, load, recall) in one decision, so one swipe leaves one audit row
    per door it opened, or one denial when it opened none."""

    staff: StaffCredential


@dataclass(frozen=True)
class MaintenanceOpen:
    staff: StaffCredential
    compartment: CompartmentId
    reason: str


@dataclass(frozen=True)
class ConfirmByHand:
    """A degraded compartment: the person says the door is shut and whether the item is inside."""

    open_id: OpenId
    credential: Credential
    item_inside: bool


# -- from the central system -----------------------------------------------------


@dataclass(frozen=True)
class Reserve:
    actor: CentralActor
    application: ApplicationNumber
    owner: OwnerRef
    size: Size
    department: DepartmentId
    deadline_wall_s: float
    accessible: bool = False
    pickup_code: CodeDigest | None = None


@dataclass(frozen=True)
class Cancel:
    actor: CentralActor
    application: ApplicationNumber


@dataclass(frozen=True)
class ExpectDropoff:
    """Issue a drop-off code; the app generates the code, digests it and replies with it."""

    actor: CentralActor
    application: ApplicationNumber
    department: DepartmentId
    size: Size
    code: CodeDigest
    expires_wall_s: float
    owner: OwnerRef | None = None


@dataclass(frozen=True)
class ExtendDeadline:
    actor: CentralActor
    application: ApplicationNumber
    deadline_wall_s: float


@dataclass(frozen=True)
class RecallList:
    actor: CentralActor
    department: DepartmentId | None = None


@dataclass(frozen=True)
class RemoteOpen:
    actor: CentralActor
    compartment: CompartmentId
    reason: str
    expires_wall_s: float


@dataclass(frozen=True)
class SetService:
    actor: CentralActor | StaffCredential
    compartment: CompartmentId
    in_service: bool
    reason: str


@dataclass(frozen=True)
class Inventory:
    actor: CentralActor


@dataclass(frozen=True)
class AcknowledgeAlarm:
    """Someone has seen an alarm (``alarms.py``); an operator of the local pages or the centre."""

    actor: CentralActor
    alarm_id: str


Command = (
    StartDropoff
    | Pickup
    | StaffOpen
    | StaffSwipe
    | MaintenanceOpen
    | ConfirmByHand
    | Reserve
    | Cancel
    | ExpectDropoff
    | ExtendDeadline
    | RecallList
    | RemoteOpen
    | SetService
    | Inventory
    | AcknowledgeAlarm
)
