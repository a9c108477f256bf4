"""The compartment lifecycle: an explicit table keyed by ``(state, input)``.

Business state and physical state are kept apart (field lessons, "physical
states kept separate from business states"): ``CompartmentState`` says what the
compartment is promised to, ``Physical`` what its sensors last said.

::

    FREE ──START_DROPOFF──> DROPOFF ──DEPOSITED──> OCCUPIED ──ITEMS_LEFT──> (settle)
      │                        └──ABANDONED──> FREE       ▲
      └──RESERVE──> RESERVED ──LOADED───────────────────────┘
    any ──FAULT──> FAULTY ──RETURN_TO_SERVICE / MAINTENANCE_CLOSED──> (settle)
    FREE, FAULTY ──TAKE_OUT_OF_SERVICE──> OUT_OF_SERVICE ──RETURN_TO_SERVICE──> (settle)

``SETTLE`` in the table means "from the items": OCCUPIED if one is inside,
RESERVED if certificates are only expected, FREE otherwise.

A pair missing from the table is a refusal (``InvalidTransition``) when a
command asked for it. The flows only feed inputs that the table allows for the
current state; the state-machine tests check every pair.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from .errors import InvalidTransition
from .ids import CompartmentId, OpenId
from .items import Claim, Item


class CompartmentState(StrEnum):
    """Where a compartment is in its life (free, in a drop-off, reserved, holding items, ...)."""

    FREE = "free"
    DROPOFF = "dropoff"  # a citizen's drop-off open is under way
    RESERVED = "reserved"  # certificates expected, none inside
    OCCUPIED = "occupied"  # items inside
    OUT_OF_SERVICE = "out_of_service"
    FAULTY = "faulty"  # an alarm or a failed open waits for staff


class CompartmentInput(StrEnum):
    START_DROPOFF = "start_dropoff"
    RESERVE = "reserve"
    CANCEL = "cancel"
    DEPOSITED = "deposited"
    ABANDONED = "abandoned"
    LOADED = "loaded"
    ITEMS_LEFT = "items_left"
    FAULT = "fault"
    TAKE_OUT_OF_SERVICE = "take_out_of_service"
    RETURN_TO_SERVICE = "return_to_service"
    MAINTENANCE_CLOSED = "maintenance_closed"


class _Settle(StrEnum):
    SETTLE = "settle"


SETTLE: Final = _Settle.SETTLE

S = CompartmentState
In = CompartmentInput

TRANSITIONS: Final[dict[tuple[CompartmentState, CompartmentInput], CompartmentState | _Settle]] = {
    (S.FREE, In.START_DROPOFF): S.DROPOFF,
    (S.FREE, In.RESERVE): S.RESERVED,
    (S.FREE, In.FAULT): S.FAULTY,
    (S.FREE, In.TAKE_OUT_OF_SERVICE): S.OUT_OF_SERVICE,
    (S.FREE, In.MAINTENANCE_CLOSED): SETTLE,
    (S.DROPOFF, In.DEPOSITED): S.OCCUPIED,
    (S.DROPOFF, In.ABANDONED): S.FREE,
    (S.DROPOFF, In.FAULT): S.FAULTY,
    (S.RESERVED, In.RESERVE): S.RESERVED,
    (S.RESERVED, In.CANCEL): SETTLE,
    (S.RESERVED, In.LOADED): S.OCCUPIED,
    (S.RESERVED, In.FAULT): S.FAULTY,
    (S.RESERVED, In.MAINTENANCE_CLOSED): SETTLE,
    (S.OCCUPIED, In.RESERVE): S.OCCUPIED,
    (S.OCCUPIED, In.CANCEL): SETTLE,
    (S.OCCUPIED, In.LOADED): S.OCCUPIED,
    (S.OCCUPIED, In.ITEMS_LEFT): SETTLE,
    (S.OCCUPIED, In.FAULT): S.FAULTY,
    (S.OCCUPIED, In.MAINTENANCE_CLOSED): SETTLE,
    # Out of service holds no items; an alarm there is reported and changes nothing.
    (S.OUT_OF_SERVICE, In.FAULT): S.OUT_OF_SERVICE,
    (S.OUT_OF_SERVICE, In.RETURN_TO_SERVICE): SETTLE,
    (S.OUT_OF_SERVICE, In.MAINTENANCE_CLOSED): S.OUT_OF_SERVICE,
    # A faulty compartment keeps its items; only staff (maintenance) or a
    # technician's "back in service" settle it again.
    (S.FAULTY, In.CANCEL): S.FAULTY,
    (S.FAULTY, In.ITEMS_LEFT): S.FAULTY,
    (S.FAULTY, In.FAULT): S.FAULTY,
    (S.FAULTY, In.TAKE_OUT_OF_SERVICE): S.OUT_OF_SERVICE,
    (S.FAULTY, In.RETURN_TO_SERVICE): SETTLE,
    (S.FAULTY, In.MAINTENANCE_CLOSED): SETTLE,
}


class DoorReading(StrEnum):
    """What the door switch last said; unknown until its board was read (never closed then)."""

    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"  # never "closed" when we do not know (DESIGN.md section 4.7)


class ItemReading(StrEnum):
    """What the item sensor last said; unknown without a sensor or before a reading."""

    PRESENT = "present"
    ABSENT = "absent"
    UNKNOWN = "unknown"


class FaultReason(StrEnum):
    """Why a compartment waits for staff (faults)."""

    JAMMED = "jammed"
    FORCED = "forced"
    UNEXPECTED_ITEM = "unexpected_item"
    MISSING_ITEM = "missing_item"
    OUTCOME_UNKNOWN = "outcome_unknown"


@dataclass(frozen=True)
class Physical:
    door: DoorReading = DoorReading.UNKNOWN
    item: ItemReading = ItemReading.UNKNOWN
    door_open_since_mono_s: float | None = None
    ajar_reported: bool = False


@dataclass(frozen=True)
class Compartment:
    id: CompartmentId
    state: CompartmentState = CompartmentState.FREE
    claim: Claim | None = None
    items: tuple[Item, ...] = ()
    physical: Physical = Physical()
    open_id: OpenId | None = None
    pulse_count: int = 0
    faults: tuple[FaultReason, ...] = ()

    @property
    def items_inside(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.inside)

    def settled_state(self) -> CompartmentState:
        if self.items_inside:
            return CompartmentState.OCCUPIED
        if self.items:
            return CompartmentState.RESERVED
        return CompartmentState.FREE


def next_state(state: CompartmentState, event: CompartmentInput) -> CompartmentState | _Settle:
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise InvalidTransition(
            f"compartment cannot {event.value} while {state.value}",
            state=state.value,
            input=event.value,
        ) from None


def transition(
    compartment: Compartment,
    event: CompartmentInput,
    *,
    items: tuple[Item, ...] | None = None,
    claim: Claim | None = None,
    fault: FaultReason | None = None,
) -> Compartment:
    """Apply ``event``; ``items``/``claim`` replace the contents when given."""
    target = next_state(compartment.state, event)
    updated = replace(
        compartment,
        items=compartment.items if items is None else items,
        claim=compartment.claim if claim is None else claim,
    )
    state = updated.settled_state() if target is SETTLE else CompartmentState(target)
    faults: tuple[FaultReason, ...] = ()
    if state is CompartmentState.FAULTY:
        faults = updated.faults
        if fault is not None and fault not in faults:
            faults = (*faults, fault)
    keeps_claim = state is CompartmentState.DROPOFF or bool(updated.items)
    return replace(
        updated,
        state=state,
        faults=faults,
        claim=updated.claim if keeps_claim else None,
    )
