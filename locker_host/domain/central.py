"""Commands from the central system (the MQTT contract's command set).

reserve, cancel, expect_dropoff, extend_deadline, recall_list, open (remote),
set_service (``staff.py``) and inventory. The central system knows owners only
by owner key and digests pickup codes itself or through the app.
"""

from __future__ import annotations

from dataclasses import replace

from .assignment import assign
from .commands import (
    Cancel,
    ExpectDropoff,
    ExtendDeadline,
    Inventory,
    RecallList,
    RemoteOpen,
    Reserve,
)
from .compartment import Compartment, CompartmentInput, CompartmentState, transition
from .decision import Tx
from .errors import (
    ClockUntrusted,
    CommandExpired,
    CompartmentBusy,
    DuplicateApplication,
    InvalidDeadline,
    InvalidTransition,
    PickupCodeTooShort,
    UnknownApplication,
)
from .events import (
    CertificateCancelled,
    CertificateReserved,
    DeadlineExtended,
    DropoffExpected,
)
from .ids import ApplicationNumber, ItemId
from .items import Claim, Item, ItemKind, ItemStage
from .opening import OpenRequest
from .opens import Purpose
from .pickup_codes import CodeDigest, required_code_length
from .replies import (
    Accepted,
    CompartmentView,
    InventoryReport,
    ItemView,
    RecallEntries,
    RecallEntry,
    Reserved,
)
from .staff import single_open
from .state import DropoffExpectation, LockerConfig, LockerState


def find_certificate(tx: Tx, application: ApplicationNumber) -> tuple[Compartment, Item] | None:
    for compartment in tx.state.compartments.values():
        for item in compartment.items:
            if item.item_id == ItemId(application) and item.kind is ItemKind.CERTIFICATE:
                return compartment, item
    return None


def _known_application(tx: Tx, application: ApplicationNumber) -> bool:
    in_items = any(
        application in (item.item_id, item.application)
        for compartment in tx.state.compartments.values()
        for item in compartment.items
    )
    return in_items or any(d.application == application for d in tx.state.dropoffs)


def _check_code_length(tx: Tx, code: CodeDigest | None) -> None:
    if code is None:
        return
    alive = sum(
        item.pickup_code is not None
        for compartment in tx.state.compartments.values()
        for item in compartment.items
    ) + len(tx.state.dropoffs)
    required = required_code_length(alive + 1, tx.config.policy)
    if code.length < required:
        raise PickupCodeTooShort(
            f"with {alive + 1} live codes a code needs {required} digits", required_length=required
        )


def _check_future(tx: Tx, deadline_wall_s: float) -> None:
    # Without a trusted clock we cannot tell; the central system's clock is the reference.
    if tx.now.clock_trusted and deadline_wall_s <= tx.now.wall_s:
        raise InvalidDeadline("the deadline has already passed", deadline_wall_s=deadline_wall_s)


def reserve(tx: Tx, command: Reserve) -> None:
    if _known_application(tx, command.application):
        found = find_certificate(tx, command.application)
        raise DuplicateApplication(
            "this application already has a compartment",
            compartment=found[0].id if found else None,
        )
    _check_future(tx, command.deadline_wall_s)
    _check_code_length(tx, command.pickup_code)
    claim = Claim(command.department, command.owner)
    shared = _shareable(tx, claim, command)
    if shared is None:
        spec = assign(
            [(s, tx.compartment(s.id)) for s in tx.config.layout],
            command.size,
            accessible=command.accessible,
            policy=tx.config.policy,
            state=tx.state,
        )
        compartment = tx.compartment(spec.id)
    else:
        compartment = shared
    item = Item(
        item_id=ItemId(command.application),
        kind=ItemKind.CERTIFICATE,
        claim=claim,
        stage=ItemStage.EXPECTED,
        deadline_wall_s=command.deadline_wall_s,
        pickup_code=command.pickup_code,
    )
    items = (*compartment.items, item)
    tx.put(transition(compartment, CompartmentInput.RESERVE, items=items, claim=claim))
    tx.events.append(
        CertificateReserved(compartment.id, item.item_id, command.department, command.owner)
    )
    tx.record(command.actor, "reserve", granted=True, compartment=compartment.id)
    tx.reply = Reserved(command.application, compartment.id, shared is not None)


def _shareable(tx: Tx, claim: Claim, command: Reserve) -> Compartment | None:
    """Several certificates for one citizen from one department may share a compartment,
    when they also share the pickup code (a code opens the whole compartment)."""
    for cid, compartment in sorted(tx.state.compartments.items()):
        if (
            compartment.claim == claim
            and compartment.state in (CompartmentState.RESERVED, CompartmentState.OCCUPIED)
            and compartment.open_id is None
            and tx.spec(cid).size.fits(command.size)
            and all(i.pickup_code == command.pickup_code for i in compartment.items)
            and (
                tx.spec(cid).height_mm <= tx.config.policy.accessible_max_height_mm
                or not command.accessible
            )
        ):
            return compartment
    return None


def cancel(tx: Tx, command: Cancel) -> None:
    found = find_certificate(tx, command.application)
    if found is None:
        _cancel_dropoff(tx, command)
        return
    compartment, item = found
    if compartment.open_id is not None:
        raise CompartmentBusy("an open is under way there", compartment=compartment.id)
    if item.stage is ItemStage.CANCELLED:
        tx.reply = Accepted("already cancelled")
        return
    if item.stage is ItemStage.EXPECTED:
        items = tuple(i for i in compartment.items if i != item)
    else:
        # Loaded: it stays inside until staff recall it; the owner can no longer take it.
        items = tuple(
            replace(i, stage=ItemStage.CANCELLED) if i == item else i for i in compartment.items
        )
    tx.put(transition(compartment, CompartmentInput.CANCEL, items=items))
    tx.events.append(CertificateCancelled(compartment.id, item.item_id, item.inside))
    tx.record(command.actor, "cancel", granted=True, compartment=compartment.id)
    tx.reply = Accepted()


def _cancel_dropoff(tx: Tx, command: Cancel) -> None:
    expectation = next((d for d in tx.state.dropoffs if d.application == command.application), None)
    if expectation is None:
        raise UnknownApplication("no such application here", application=command.application)
    if expectation.open_id is not None:
        raise CompartmentBusy("the drop-off is under way")
    tx.state = replace(tx.state, dropoffs=tuple(d for d in tx.state.dropoffs if d != expectation))
    tx.record(command.actor, "cancel", granted=True, detail="drop-off code")
    tx.reply = Accepted("drop-off code withdrawn")


def expect_dropoff(tx: Tx, command: ExpectDropoff) -> None:
    if _known_application(tx, command.application):
        raise DuplicateApplication("this application is already known here")
    _check_future(tx, command.expires_wall_s)
    _check_code_length(tx, command.code)
    expectation = DropoffExpectation(
        command.application,
        command.department,
        command.size,
        command.code,
        command.expires_wall_s,
        command.owner,
    )
    tx.state = replace(tx.state, dropoffs=(*tx.state.dropoffs, expectation))
    tx.events.append(DropoffExpected(command.application, command.department))
    tx.record(command.actor, "expect_dropoff", granted=True)
    tx.reply = Accepted()


def extend_deadline(tx: Tx, command: ExtendDeadline) -> None:
    found = find_certificate(tx, command.application)
    if found is None:
        raise UnknownApplication("no such application here", application=command.application)
    compartment, item = found
    if item.stage is ItemStage.CANCELLED:
        raise InvalidTransition("a cancelled certificate has no deadline", stage=item.stage)
    if item.deadline_wall_s is not None and command.deadline_wall_s <= item.deadline_wall_s:
        raise InvalidDeadline("an extension moves the deadline later")
    _check_future(tx, command.deadline_wall_s)
    policy = tx.config.policy
    sent = (
        policy.reminders_due(command.deadline_wall_s, tx.now.wall_s) if tx.now.clock_trusted else 0
    )
    stage = ItemStage.HELD if item.stage is ItemStage.OVERDUE else item.stage
    extended = replace(
        item, deadline_wall_s=command.deadline_wall_s, reminders_sent=sent, stage=stage
    )
    items = tuple(extended if i == item else i for i in compartment.items)
    tx.put(replace(compartment, items=items))
    tx.events.append(DeadlineExtended(compartment.id, item.item_id, command.deadline_wall_s))
    tx.record(command.actor, "extend_deadline", granted=True, compartment=compartment.id)
    tx.reply = Accepted()


def recall_list(tx: Tx, command: RecallList) -> None:
    entries = tuple(
        RecallEntry(
            item.item_id,
            item.kind,
            item.stage,
            compartment.id,
            item.claim.department,
            item.deadline_wall_s,
        )
        for compartment in sorted(tx.state.compartments.values(), key=lambda c: c.id)
        for item in compartment.items
        if (item.recallable or (item.kind is ItemKind.DOSSIER and item.stage is ItemStage.OVERDUE))
        and command.department in (None, item.claim.department)
    )
    tx.record(command.actor, "recall_list", granted=True, detail=f"{len(entries)} items")
    tx.reply = RecallEntries(entries)


def remote_open(tx: Tx, command: RemoteOpen) -> None:
    if not tx.now.clock_trusted:
        # We cannot tell a fresh command from one that waited out an outage (Open-Locker #134).
        raise ClockUntrusted("the locker's clock is not synchronised; remote opens wait")
    if tx.now.wall_s > command.expires_wall_s:
        raise CommandExpired("the remote open expired", expires_wall_s=command.expires_wall_s)
    request = OpenRequest(command.compartment, Purpose.REMOTE, command.actor, (), command.reason)
    single_open(tx, "remote_open", request)


def inventory_report(config: LockerConfig, state: LockerState) -> InventoryReport:
    """What every compartment and board looks like: no owner keys, no codes.

    The `inventory` command's reply, and the body of the published state."""
    views = []
    for spec in config.layout:
        compartment = state.compartments[spec.id]
        views.append(
            CompartmentView(
                compartment=spec.id,
                size=spec.size,
                sensors=tuple(sorted(spec.sensors)),
                state=compartment.state,
                door=compartment.physical.door,
                item=compartment.physical.item,
                faults=tuple(compartment.faults),
                items=tuple(
                    ItemView(
                        i.item_id,
                        i.kind,
                        i.stage,
                        i.claim.department,
                        i.deadline_wall_s,
                    )
                    for i in compartment.items
                ),
                open_id=compartment.open_id,
                pulse_count=compartment.pulse_count,
            )
        )
    boards = tuple(sorted((key, status.value) for key, status in state.boards.items()))
    return InventoryReport(tuple(views), boards)


def inventory(tx: Tx, command: Inventory) -> None:
    tx.record(command.actor, "inventory", granted=True)
    tx.reply = inventory_report(tx.config, tx.state)
