"""Observations: facts from the sensors, the bus and the process. Never refused.

The bus adapter turns latched change bits into ``DoorOpened`` / ``DoorClosed``
so that an open-and-close between two polls is never missed (DESIGN.md section
5); ``BoardRead`` is a whole-board snapshot (after a ``ReadBoard`` effect, and
the first good poll after a board was offline or the daemon restarted).
"""

from __future__ import annotations

from dataclasses import dataclass

from .ids import CompartmentId, OpenId
from .layout import BoardRef


@dataclass(frozen=True)
class DoorOpened:
    compartment: CompartmentId


@dataclass(frozen=True)
class DoorClosed:
    compartment: CompartmentId
    # The item sensor at the moment of closing; None without an item sensor.
    item_present: bool | None


@dataclass(frozen=True)
class ItemSensed:
    compartment: CompartmentId
    present: bool


@dataclass(frozen=True)
class ChannelReading:
    compartment: CompartmentId
    door_open: bool | None  # None: no door switch
    item_present: bool | None  # None: no item sensor


@dataclass(frozen=True)
class BoardRead:
    board: BoardRef
    readings: tuple[ChannelReading, ...]


@dataclass(frozen=True)
class BoardUnreachable:
    """N polls in a row failed (the bus adapter owns N)."""

    board: BoardRef


@dataclass(frozen=True)
class PulseNotAcknowledged:
    open_id: OpenId


@dataclass(frozen=True)
class Restarted:
    """The daemon started again; nothing opens by itself (field lessons #15)."""


Observation = (
    DoorOpened
    | DoorClosed
    | ItemSensed
    | BoardRead
    | BoardUnreachable
    | PulseNotAcknowledged
    | Restarted
)
