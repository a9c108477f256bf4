"""Staff flows at the locker: collect, load, recall (one purpose, or a card's swipe:
all of them), maintenance, service."""

from __future__ import annotations

from .actors import CentralActor
from .auth import (
    STAFF_PURPOSES,
    actor_of,
    require_service_role,
    require_staff_purpose,
    staff_items,
)
from .citizen import open_matches
from .commands import MaintenanceOpen, SetService, StaffOpen, StaffSwipe
from .compartment import CompartmentInput, CompartmentState, transition
from .decision import Tx
from .errors import (
    CompartmentBusy,
    CompartmentNotEmpty,
    CompartmentUnavailable,
    NotAuthorised,
    NothingForYou,
    ReasonRequired,
    UnknownCompartment,
)
from .events import CompartmentInService, CompartmentOutOfService
from .ids import CompartmentId
from .opening import OpenRequest, start_opens
from .opens import Purpose
from .replies import Accepted, Opening, StaffOpening


def staff_open(tx: Tx, command: StaffOpen) -> None:
    staff, purpose = command.staff, command.purpose
    if purpose not in (Purpose.COLLECT, Purpose.LOAD, Purpose.RECALL):
        raise NotAuthorised("staff cards open to collect, load or recall", purpose=purpose.value)
    require_staff_purpose(staff, purpose)
    actor = actor_of(staff)
    requests = [
        OpenRequest(cid, purpose, actor, items)
        for cid, compartment in sorted(tx.state.compartments.items())
        if (items := staff_items(compartment, staff, purpose))
    ]
    nothing = NothingForYou(f"nothing to {purpose.value} for your department")
    open_matches(tx, "staff_open", requests, not_found=nothing)


# The order a swipe serves them in: what waits to go out of the locker first.
SWIPE_PURPOSES = (Purpose.COLLECT, Purpose.LOAD, Purpose.RECALL)


def staff_swipe(tx: Tx, command: StaffSwipe) -> None:
    """Every purpose of the card's role with work to do, opened in one go (one
    stagger of the pulses); a purpose with nothing to do leaves no trace."""
    staff = command.staff
    purposes = [p for p in SWIPE_PURPOSES if p in STAFF_PURPOSES[staff.role]]
    if not purposes:
        raise NotAuthorised(
            f"a {staff.role.value} card collects, loads and recalls nothing", role=staff.role.value
        )
    actor = actor_of(staff)
    requests: list[OpenRequest] = []
    for purpose in purposes:
        taken = {r.compartment for r in requests}  # one open per compartment: the first purpose
        requests += [
            OpenRequest(cid, purpose, actor, items)
            for cid, compartment in sorted(tx.state.compartments.items())
            if cid not in taken and (items := staff_items(compartment, staff, purpose))
        ]
    nothing = NothingForYou("nothing to collect, load or recall for your department")
    open_matches(tx, "staff_open", requests, not_found=nothing)
    opening = tx.reply
    assert isinstance(opening, Opening)
    purpose_of = {r.compartment: r.purpose for r in requests}
    tx.reply = StaffOpening(
        {
            purpose: Opening(
                tuple(o for o in opening.opens if purpose_of[o.compartment] is purpose),
                tuple(c for c in opening.unavailable if purpose_of[c] is purpose),
            )
            for purpose in purposes
            if purpose in purpose_of.values()
        }
    )


def require_compartment(tx: Tx, cid: CompartmentId) -> None:
    if cid not in tx.state.compartments:
        raise UnknownCompartment("no such compartment", compartment=cid)


def single_open(tx: Tx, action: str, request: OpenRequest) -> None:
    """Maintenance and remote opens: one named compartment, faulty or not."""
    if not request.reason.strip():
        raise ReasonRequired("say why this compartment is opened")
    require_compartment(tx, request.compartment)
    if tx.compartment(request.compartment).open_id is not None:
        raise CompartmentBusy("an open is under way there", compartment=request.compartment)
    if not tx.online(request.compartment):
        raise CompartmentUnavailable("its board does not answer", compartment=request.compartment)
    tx.reply = Opening(start_opens(tx, action, [request]))


def maintenance_open(tx: Tx, command: MaintenanceOpen) -> None:
    require_staff_purpose(command.staff, Purpose.MAINTENANCE)
    # items=(): whatever leaves during maintenance is reported as item.removed.
    request = OpenRequest(
        command.compartment, Purpose.MAINTENANCE, actor_of(command.staff), (), command.reason
    )
    single_open(tx, "maintenance_open", request)


def set_service(tx: Tx, command: SetService) -> None:
    actor = command.actor if isinstance(command.actor, CentralActor) else actor_of(command.actor)
    if not isinstance(command.actor, CentralActor):
        require_service_role(command.actor)
    if not command.reason.strip():
        raise ReasonRequired("say why the service changes")
    cid = command.compartment
    require_compartment(tx, cid)
    compartment = tx.compartment(cid)
    if compartment.open_id is not None:
        raise CompartmentBusy("an open is under way there", compartment=cid)
    state = compartment.state
    if command.in_service:
        if state not in (CompartmentState.OUT_OF_SERVICE, CompartmentState.FAULTY):
            tx.reply = Accepted("already in service")
            return
        tx.put(transition(compartment, CompartmentInput.RETURN_TO_SERVICE))
        tx.events.append(CompartmentInService(cid, command.reason))
    else:
        if state is CompartmentState.OUT_OF_SERVICE:
            tx.reply = Accepted("already out of service")
            return
        if compartment.items:
            raise CompartmentNotEmpty("empty it first (recall or maintenance)", compartment=cid)
        if state not in (CompartmentState.FREE, CompartmentState.FAULTY):
            raise CompartmentBusy("a drop-off is under way there", compartment=cid)
        tx.put(transition(compartment, CompartmentInput.TAKE_OUT_OF_SERVICE))
        tx.events.append(CompartmentOutOfService(cid, command.reason))
    tx.record(actor, "set_service", granted=True, compartment=cid, detail=command.reason)
    tx.reply = Accepted()
