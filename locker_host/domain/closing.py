"""What a finished open means: a table keyed by ``(purpose, content)``.

``content`` is what is inside when the door closed: the item sensor's reading,
or, for a compartment without one, the person's answer at the kiosk; when
nobody answers in time it is ``UNCONFIRMED`` and the default rule applies.
The degraded defaults err towards never losing an item: without confirmation
records do not change, except a drop-off, which is recorded as deposited but
``confirmed=False`` (the department opens it anyway, and a dossier that exists
but was not recorded would be lost).
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Final, assert_never

from .actors import CitizenActor, StaffActor
from .compartment import CompartmentInput, FaultReason, transition
from .decision import Tx
from .events import (
    AbandonReason,
    CertificateCollected,
    CertificateLoaded,
    CertificateLoadFailed,
    CertificateNotRecalled,
    CertificateNotTaken,
    CertificateRecalled,
    DossierCollected,
    DossierDeposited,
    DossierNotCollected,
    DropoffAbandoned,
    ItemRemoved,
    ItemUnexpected,
    LoadFailure,
    OpenJammed,
    OpenOutcomeUnknown,
)
from .ids import ItemId, StaffId
from .items import Item, ItemKind, ItemStage
from .opens import Open, Purpose


class Content(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    UNCONFIRMED = "unconfirmed"


class Resolution(StrEnum):
    DEPOSITED = "deposited"
    DEPOSITED_UNCONFIRMED = "deposited_unconfirmed"
    ABANDONED = "abandoned"
    COLLECTED = "collected"
    NOT_TAKEN = "not_taken"
    LOADED = "loaded"
    LOAD_FAILED = "load_failed"
    LOAD_UNCONFIRMED = "load_unconfirmed"
    DOSSIERS_COLLECTED = "dossiers_collected"
    NOT_COLLECTED = "not_collected"
    RECALLED = "recalled"
    NOT_RECALLED = "not_recalled"
    EMPTIED = "emptied"  # maintenance / remote: what was inside left through this open
    CHECKED = "checked"  # maintenance / remote: something is inside
    UNCHANGED = "unchanged"


P, C, R = Purpose, Content, Resolution

RESOLUTIONS: Final[dict[tuple[Purpose, Content], Resolution]] = {
    (P.DEPOSIT, C.PRESENT): R.DEPOSITED,
    (P.DEPOSIT, C.ABSENT): R.ABANDONED,
    (P.DEPOSIT, C.UNCONFIRMED): R.DEPOSITED_UNCONFIRMED,
    (P.PICKUP, C.ABSENT): R.COLLECTED,
    (P.PICKUP, C.PRESENT): R.NOT_TAKEN,
    (P.PICKUP, C.UNCONFIRMED): R.NOT_TAKEN,
    (P.LOAD, C.PRESENT): R.LOADED,
    (P.LOAD, C.ABSENT): R.LOAD_FAILED,
    (P.LOAD, C.UNCONFIRMED): R.LOAD_UNCONFIRMED,
    (P.COLLECT, C.ABSENT): R.DOSSIERS_COLLECTED,
    (P.COLLECT, C.PRESENT): R.NOT_COLLECTED,
    (P.COLLECT, C.UNCONFIRMED): R.NOT_COLLECTED,
    (P.RECALL, C.ABSENT): R.RECALLED,
    (P.RECALL, C.PRESENT): R.NOT_RECALLED,
    (P.RECALL, C.UNCONFIRMED): R.NOT_RECALLED,
    (P.MAINTENANCE, C.ABSENT): R.EMPTIED,
    (P.MAINTENANCE, C.PRESENT): R.CHECKED,
    (P.MAINTENANCE, C.UNCONFIRMED): R.UNCHANGED,
    (P.REMOTE, C.ABSENT): R.EMPTIED,
    (P.REMOTE, C.PRESENT): R.CHECKED,
    (P.REMOTE, C.UNCONFIRMED): R.UNCHANGED,
}


def resolve_closed(tx: Tx, open_: Open, content: Content) -> Resolution:
    resolution = RESOLUTIONS[open_.purpose, content]
    _apply(tx, open_, resolution)
    return resolution


def resolve_jammed(tx: Tx, open_: Open) -> None:
    tx.events.append(OpenJammed(open_.compartment, open_.open_id, open_.purpose))
    _fail(tx, open_, FaultReason.JAMMED, AbandonReason.NOT_OPENED)
    if open_.purpose is Purpose.LOAD:
        tx.events.append(CertificateLoadFailed(open_.compartment, open_.items, LoadFailure.JAMMED))


def resolve_unknown(tx: Tx, open_: Open) -> None:
    """Never re-executed (Open-Locker ADR-0041): staff look, the records stay."""
    tx.events.append(OpenOutcomeUnknown(open_.compartment, open_.open_id, open_.purpose))
    _fail(tx, open_, FaultReason.OUTCOME_UNKNOWN, AbandonReason.OUTCOME_UNKNOWN)


def _fail(tx: Tx, open_: Open, fault: FaultReason, dropoff_reason: AbandonReason) -> None:
    compartment = tx.compartment(open_.compartment)
    if open_.purpose is Purpose.DEPOSIT and compartment.claim is not None:
        _release_dropoff_code(tx, open_)
        department = compartment.claim.department
        tx.events.append(DropoffAbandoned(compartment.id, department, dropoff_reason))
    tx.put(transition(compartment, CompartmentInput.FAULT, fault=fault))


def _deposited(tx: Tx, open_: Open, *, confirmed: bool) -> None:
    compartment = tx.compartment(open_.compartment)
    assert compartment.claim is not None, "a drop-off compartment carries its claim"
    expectation = next((d for d in tx.state.dropoffs if d.open_id == open_.open_id), None)
    application = expectation.application if expectation else None
    sla = tx.config.policy.dossier_collection_sla_s
    dossier = _arrived(
        tx,
        Item(
            item_id=ItemId(tx.new_receipt()),
            kind=ItemKind.DOSSIER,
            claim=compartment.claim,
            stage=ItemStage.HELD,
            deadline_wall_s=tx.now.wall_s + sla if tx.now.clock_trusted else None,
            confirmed=confirmed,
            application=application,
        ),
    )
    tx.state = replace(tx.state, dropoffs=tuple(d for d in tx.state.dropoffs if d != expectation))
    tx.put(transition(compartment, CompartmentInput.DEPOSITED, items=(dossier,)))
    tx.events.append(
        DossierDeposited(
            compartment.id,
            dossier.item_id,
            dossier.claim.department,
            dossier.claim.owner,
            application,
            confirmed,
        )
    )


def _arrived(tx: Tx, item: Item) -> Item:
    """An item just went in: reminders whose time has passed are skipped, not sent late."""
    if item.deadline_wall_s is None or not tx.now.clock_trusted:
        return item
    policy = tx.config.policy
    return replace(item, reminders_sent=policy.reminders_due(item.deadline_wall_s, tx.now.wall_s))


def _abandoned(tx: Tx, open_: Open) -> None:
    compartment = tx.compartment(open_.compartment)
    assert compartment.claim is not None
    tx.events.append(
        DropoffAbandoned(compartment.id, compartment.claim.department, AbandonReason.CLOSED_EMPTY)
    )
    tx.put(transition(compartment, CompartmentInput.ABANDONED))


def _release_dropoff_code(tx: Tx, open_: Open) -> None:
    dropoffs = tuple(
        replace(d, open_id=None) if d.open_id == open_.open_id else d for d in tx.state.dropoffs
    )
    tx.state = replace(tx.state, dropoffs=dropoffs)


def _items_leave(tx: Tx, open_: Open) -> list[Item]:
    """Everything inside left through this (authorised, audited) open.

    Items this open was not meant for (a cancelled certificate of the same
    owner, anything during maintenance) are reported as ``item.removed``.
    """
    compartment = tx.compartment(open_.compartment)
    leaving = [i for i in compartment.items_inside if i.item_id in open_.items]
    for item in compartment.items_inside:
        if item.item_id not in open_.items:
            tx.events.append(
                ItemRemoved(compartment.id, item.item_id, open_.open_id, open_.purpose)
            )
    staying = tuple(i for i in compartment.items if not i.inside)
    event = (
        CompartmentInput.MAINTENANCE_CLOSED
        if open_.purpose in (Purpose.MAINTENANCE, Purpose.REMOTE)
        else CompartmentInput.ITEMS_LEFT
    )
    tx.put(transition(compartment, event, items=staying))
    return leaving


def _staff_id(open_: Open) -> StaffId:
    assert isinstance(open_.actor, StaffActor), "collect and recall opens are staff opens"
    return open_.actor.staff_id


def _collected(tx: Tx, open_: Open) -> None:
    for item in _items_leave(tx, open_):
        with_code = isinstance(open_.actor, CitizenActor) and open_.actor.with_code
        tx.events.append(
            CertificateCollected(open_.compartment, item.item_id, item.claim.owner, with_code)
        )


def _dossiers_collected(tx: Tx, open_: Open) -> None:
    staff = _staff_id(open_)
    for item in _items_leave(tx, open_):
        tx.events.append(
            DossierCollected(open_.compartment, item.item_id, item.claim.department, staff)
        )


def _recalled(tx: Tx, open_: Open) -> None:
    staff = _staff_id(open_)
    for item in _items_leave(tx, open_):
        tx.events.append(
            CertificateRecalled(open_.compartment, item.item_id, item.claim.department, staff)
        )


def _loaded(tx: Tx, open_: Open, *, confirmed: bool) -> None:
    compartment = tx.compartment(open_.compartment)
    items = tuple(
        _arrived(tx, replace(i, stage=ItemStage.HELD, confirmed=confirmed))
        if i.item_id in open_.items
        else i
        for i in compartment.items
    )
    tx.put(transition(compartment, CompartmentInput.LOADED, items=items))
    for item in items:
        if item.item_id in open_.items:
            tx.events.append(
                CertificateLoaded(
                    compartment.id, item.item_id, item.claim.department, item.claim.owner, confirmed
                )
            )


def _emptied(tx: Tx, open_: Open) -> None:
    _items_leave(tx, open_)


def _checked(tx: Tx, open_: Open) -> None:
    compartment = tx.compartment(open_.compartment)
    if compartment.items_inside:
        tx.put(transition(compartment, CompartmentInput.MAINTENANCE_CLOSED))
        return
    tx.events.append(ItemUnexpected(compartment.id))
    tx.put(transition(compartment, CompartmentInput.FAULT, fault=FaultReason.UNEXPECTED_ITEM))


def _apply(tx: Tx, open_: Open, resolution: Resolution) -> None:
    cid = open_.compartment
    match resolution:
        case R.DEPOSITED | R.DEPOSITED_UNCONFIRMED:
            _deposited(tx, open_, confirmed=resolution is R.DEPOSITED)
        case R.ABANDONED:
            _release_dropoff_code(tx, open_)
            _abandoned(tx, open_)
        case R.COLLECTED:
            _collected(tx, open_)
        case R.NOT_TAKEN:
            tx.events.append(CertificateNotTaken(cid, open_.items))
        case R.LOADED:
            _loaded(tx, open_, confirmed=True)
        case R.LOAD_FAILED | R.LOAD_UNCONFIRMED:
            reason = (
                LoadFailure.CLOSED_EMPTY
                if resolution is R.LOAD_FAILED
                else LoadFailure.NOT_CONFIRMED
            )
            tx.events.append(CertificateLoadFailed(cid, open_.items, reason))
        case R.DOSSIERS_COLLECTED:
            _dossiers_collected(tx, open_)
        case R.NOT_COLLECTED:
            tx.events.append(DossierNotCollected(cid, open_.items))
        case R.RECALLED:
            _recalled(tx, open_)
        case R.NOT_RECALLED:
            tx.events.append(CertificateNotRecalled(cid, open_.items))
        case R.EMPTIED:
            _emptied(tx, open_)
        case R.CHECKED:
            _checked(tx, open_)
        case R.UNCHANGED:
            pass
        case _:
            assert_never(resolution)
