"""Replies to commands (the MQTT response payload, the kiosk's next screen)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .compartment import CompartmentState, DoorReading, FaultReason, ItemReading
from .ids import ApplicationNumber, CompartmentId, DepartmentId, ItemId, OpenId
from .items import ItemKind, ItemStage
from .layout import Sensor, Size
from .opens import Purpose


@dataclass(frozen=True)
class Accepted:
    detail: str = ""


@dataclass(frozen=True)
class Reserved:
    application: ApplicationNumber
    compartment: CompartmentId
    shared: bool  # joins certificates already held for the same owner


@dataclass(frozen=True)
class OpenStarted:
    open_id: OpenId
    compartment: CompartmentId


@dataclass(frozen=True)
class Opening:
    opens: tuple[OpenStarted, ...]
    # Compartments that hold something for this person but cannot open now
    # (faulty, board offline, another open under way): "please see staff".
    unavailable: tuple[CompartmentId, ...] = ()


@dataclass(frozen=True)
class StaffOpening:
    """A staff card's swipe: what each purpose with work to do opened."""

    by_purpose: Mapping[Purpose, Opening]


@dataclass(frozen=True)
class RecallEntry:
    item: ItemId
    kind: ItemKind
    stage: ItemStage
    compartment: CompartmentId
    department: DepartmentId
    deadline_wall_s: float | None


@dataclass(frozen=True)
class RecallEntries:
    entries: tuple[RecallEntry, ...]


@dataclass(frozen=True)
class ItemView:
    item: ItemId
    kind: ItemKind
    stage: ItemStage
    department: DepartmentId
    deadline_wall_s: float | None


@dataclass(frozen=True)
class CompartmentView:
    """The inventory line of a compartment: no owner keys, no codes."""

    compartment: CompartmentId
    size: Size
    sensors: tuple[Sensor, ...]
    state: CompartmentState
    door: DoorReading
    item: ItemReading
    faults: tuple[FaultReason, ...]
    items: tuple[ItemView, ...]
    open_id: OpenId | None
    pulse_count: int


@dataclass(frozen=True)
class InventoryReport:
    compartments: tuple[CompartmentView, ...]
    boards: tuple[tuple[str, str], ...]


Reply = Accepted | Reserved | Opening | StaffOpening | RecallEntries | InventoryReport
