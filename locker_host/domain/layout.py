"""The fixed shape of a locker: compartments, sizes, sensors and wiring.

A compartment declares which sensors it really has. Missing ones are not an
error: they select the degraded flows (DESIGN.md section 4, last paragraph):

* no door switch: the lock is pulsed and the door is *assumed* open; no jam,
  forced-door or ajar detection, and no item alarms either (a change may be a
  hand at an open door); the person confirms "closed" at the kiosk, or the
  by-hand window ends the open with the default rule (``closing.py``).
* no item sensor: at close the person confirms by hand whether the item is
  inside; no unexpected-item or missing-item alarms.
* lock feedback: declared and reported in the inventory; the flows do not use
  it yet (the door switch is what confirms an open).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from .ids import BoardAddress, BusId, CompartmentId, PowerSupplyId


class Size(StrEnum):
    """A compartment's size."""

    S = "S"
    M = "M"
    L = "L"

    @property
    def rank(self) -> int:
        return _SIZE_RANK[self]

    def fits(self, wanted: Size) -> bool:
        return self.rank >= wanted.rank


_SIZE_RANK = {Size.S: 0, Size.M: 1, Size.L: 2}


class Sensor(StrEnum):
    """The sensors a compartment has (the degraded flows without one are explicit)."""

    DOOR_SWITCH = "door_switch"
    ITEM_SENSOR = "item_sensor"
    LOCK_FEEDBACK = "lock_feedback"


@dataclass(frozen=True)
class BoardRef:
    bus: BusId
    address: BoardAddress

    @property
    def key(self) -> str:
        return f"{self.bus}/{self.address}"


@dataclass(frozen=True)
class Wiring:
    board: BoardRef
    channel: int
    power_supply: PowerSupplyId


@dataclass(frozen=True)
class CompartmentSpec:
    id: CompartmentId
    size: Size
    wiring: Wiring
    sensors: frozenset[Sensor]
    # Height of the handle above the floor; decides "accessible low slot".
    height_mm: int

    @property
    def has_door_switch(self) -> bool:
        return Sensor.DOOR_SWITCH in self.sensors

    @property
    def has_item_sensor(self) -> bool:
        return Sensor.ITEM_SENSOR in self.sensors


@dataclass(frozen=True)
class Layout:
    compartments: tuple[CompartmentSpec, ...]

    def __post_init__(self) -> None:
        ids = [c.id for c in self.compartments]
        if len(set(ids)) != len(ids):
            raise ValueError("compartment ids must be unique")
        wires = [(c.wiring.board, c.wiring.channel) for c in self.compartments]
        if len(set(wires)) != len(wires):
            raise ValueError("two compartments are wired to the same board channel")
        if any(not 1 <= c.wiring.channel <= 48 for c in self.compartments):
            raise ValueError("a board has 1 to 48 channels")

    def __iter__(self) -> Iterator[CompartmentSpec]:
        return iter(self.compartments)

    @cached_property
    def by_id(self) -> Mapping[CompartmentId, CompartmentSpec]:
        return {c.id: c for c in self.compartments}

    def spec(self, compartment: CompartmentId) -> CompartmentSpec:
        return self.by_id[compartment]

    def boards(self) -> tuple[BoardRef, ...]:
        return tuple(dict.fromkeys(c.wiring.board for c in self.compartments))

    def on_board(self, board: BoardRef) -> tuple[CompartmentSpec, ...]:
        return tuple(c for c in self.compartments if c.wiring.board == board)
