"""Citizen flows at the kiosk: drop-off (card or code), pickup (card, ID number
plus code, or code alone), and the by-hand confirmation of degraded compartments.
"""

from __future__ import annotations

from dataclasses import replace

from .assignment import assign
from .auth import actor_of, citizen_items, same_person
from .closing import Content
from .commands import ConfirmByHand, Pickup, StartDropoff
from .compartment import CompartmentInput, CompartmentState, DoorReading, ItemReading, transition
from .credentials import Assurance, CodeCredential, IdCredential
from .decision import Tx
from .errors import (
    CodeLockedOut,
    CompartmentBusy,
    CompartmentUnavailable,
    InvalidPickupCode,
    MissingChoice,
    NotAuthorised,
    NothingForYou,
    PickupCodeRequired,
    UnknownOpen,
    WrongCode,
)
from .events import CodeEntryLockedOut, LockoutScope
from .identity import OwnerRef
from .ids import CompartmentId, ItemId, OwnerKey
from .items import Claim
from .opening import OpenRequest, advance, start_opens
from .opens import OpenInput, Purpose
from .pickup_codes import (
    CodePurpose,
    code_matches,
    locked_until,
    record_failure,
    record_success,
)
from .replies import Accepted, Opening
from .state import DropoffExpectation


def available(tx: Tx, cid: CompartmentId) -> bool:
    compartment = tx.compartment(cid)
    return (
        tx.online(cid)
        and compartment.open_id is None
        and compartment.state not in (CompartmentState.FAULTY, CompartmentState.OUT_OF_SERVICE)
    )


def open_matches(tx: Tx, action: str, requests: list[OpenRequest], *, not_found: Exception) -> None:
    """Open what is available, report the rest as "see staff"."""
    if not requests:
        raise not_found
    ready = [r for r in requests if available(tx, r.compartment)]
    unavailable = tuple(r.compartment for r in requests if r not in ready)
    if not ready:
        raise CompartmentUnavailable(
            "what you have here cannot be opened now; please ask staff", count=len(unavailable)
        )
    tx.reply = Opening(start_opens(tx, action, ready), unavailable)


def _guard_code_entry(tx: Tx, owner: OwnerKey | None) -> None:
    until = locked_until(tx.state.code_guard, tx.now.mono_s, owner)
    if until is not None:
        raise CodeLockedOut("too many wrong codes; try later", retry_after_s=until - tx.now.mono_s)


def _wrong_code(tx: Tx, owner: OwnerKey | None) -> WrongCode:
    policy = tx.config.policy
    before = tx.state.code_guard
    guard = record_failure(before, policy, tx.now.mono_s, owner)
    if guard.locked_until_mono_s != before.locked_until_mono_s:
        tx.events_if_refused.append(CodeEntryLockedOut(LockoutScope.LOCKER, policy.code_lockout_s))
    if (
        owner is not None
        and owner in guard.owner_locked_until_mono_s
        and (
            guard.owner_locked_until_mono_s.get(owner)
            != before.owner_locked_until_mono_s.get(owner)
        )
    ):
        tx.events_if_refused.append(CodeEntryLockedOut(LockoutScope.OWNER, policy.code_lockout_s))
    tx.state_if_refused = replace(tx.state, code_guard=guard)
    return WrongCode("the code does not match anything here")


def pickup(tx: Tx, command: Pickup) -> None:
    credential = command.credential
    if isinstance(credential, CodeCredential) and credential.purpose is not CodePurpose.PICKUP:
        raise InvalidPickupCode("a drop-off code does not pick anything up")
    owner = credential.primary.key if isinstance(credential, IdCredential) else None
    with_code = isinstance(credential, CodeCredential) or credential.assurance is Assurance.WEAK
    if isinstance(credential, IdCredential) and with_code and not credential.pickup_code:
        raise PickupCodeRequired("a typed ID number needs the pickup code too")
    if with_code:
        _guard_code_entry(tx, owner)
    actor = actor_of(credential)
    requests = [
        OpenRequest(cid, Purpose.PICKUP, actor, items)
        for cid, compartment in sorted(tx.state.compartments.items())
        if (items := citizen_items(compartment, credential))
    ]
    if not requests and with_code:
        raise _wrong_code(tx, owner)
    if with_code:
        guard = record_success(tx.state.code_guard, owner)
        tx.state = replace(tx.state, code_guard=guard)
        tx.state_if_refused = tx.state
    open_matches(tx, "pickup", requests, not_found=NothingForYou("nothing here for you"))


def start_dropoff(tx: Tx, command: StartDropoff) -> None:
    credential = command.credential
    expectation: DropoffExpectation | None = None
    owner: OwnerRef | None
    if isinstance(credential, IdCredential):
        if command.department is None or command.size is None:
            raise MissingChoice("choose the service and the size first")
        department, size, owner = command.department, command.size, credential.primary
    else:
        if credential.purpose is not CodePurpose.DROPOFF:
            raise InvalidPickupCode("a pickup code does not start a drop-off")
        _guard_code_entry(tx, None)
        expectation = _find_expectation(tx, credential)
        if expectation is None:
            raise _wrong_code(tx, None)
        department, size, owner = expectation.department, expectation.size, expectation.owner
    config = tx.config
    spec = assign(
        [(s, tx.compartment(s.id)) for s in config.layout],
        size,
        accessible=command.accessible,
        policy=config.policy,
        state=tx.state,
    )
    claim = Claim(department, owner)
    tx.put(transition(tx.compartment(spec.id), CompartmentInput.START_DROPOFF, claim=claim))
    items = (ItemId(expectation.application),) if expectation else ()
    request = OpenRequest(spec.id, Purpose.DEPOSIT, actor_of(credential), items)
    started = start_opens(tx, "dropoff", [request])
    if expectation is not None:
        used = replace(expectation, open_id=started[0].open_id)
        dropoffs = tuple(used if d == expectation else d for d in tx.state.dropoffs)
        tx.state = replace(tx.state, dropoffs=dropoffs)
    tx.reply = Opening(started)


def _find_expectation(tx: Tx, credential: CodeCredential) -> DropoffExpectation | None:
    for expectation in tx.state.dropoffs:
        expired = tx.now.clock_trusted and tx.now.wall_s > expectation.expires_wall_s
        in_use = expectation.open_id is not None
        if not expired and not in_use and code_matches(expectation.code, credential.digests):
            return expectation
    return None


def confirm_by_hand(tx: Tx, command: ConfirmByHand) -> None:
    open_ = tx.state.opens.get(command.open_id)
    if open_ is None:
        raise UnknownOpen("that open has already finished")
    if not same_person(open_.actor, command.credential):
        raise NotAuthorised("only the person who opened it may confirm")
    spec = tx.spec(open_.compartment)
    physical = tx.compartment(open_.compartment).physical
    if spec.has_door_switch and physical.door is DoorReading.OPEN:
        raise CompartmentBusy("please close the door first")
    # A real sensor beats a person's answer.
    if spec.has_item_sensor and physical.item is not ItemReading.UNKNOWN:
        content = Content.PRESENT if physical.item is ItemReading.PRESENT else Content.ABSENT
    else:
        content = Content.PRESENT if command.item_inside else Content.ABSENT
    advance(tx, open_, OpenInput.HAND_CONFIRMED, content)
    tx.record(
        actor_of(command.credential),
        "confirm_by_hand",
        granted=True,
        compartment=open_.compartment,
        open_id=open_.open_id,
        detail=content.value,
    )
    tx.reply = Accepted(content.value)
