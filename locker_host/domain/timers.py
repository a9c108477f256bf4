"""Timers without sleeping (aioquic's ``get_timer()`` / ``handle_timer(now)``).

The shell asks ``next_deadline`` after every decision and calls ``on_timer``
when either clock reaches it. Two clocks:

* monotonic: an open's confirm / retry / by-hand window, the door-ajar alarm;
* wall clock: reminders before a deadline, overdue at the deadline, the
  dossier collection SLA, drop-off code expiry. These wait while the clock is
  not trusted (``next_deadline`` then reports none, so the shell does not spin)
  and fire once it is. Each fires at most once whatever the clock does: a jump
  back never repeats a reminder, a jump forward fires only the latest reminder
  that is due, then overdue.

Every reported deadline is consumed by ``on_timer`` at or after it, so the
shell never spins on a deadline in the past.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .actors import SystemActor
from .compartment import DoorReading
from .decision import Decision, Tx
from .events import (
    CertificateOverdue,
    CertificateReminder,
    DoorAjar,
    DossierOverdue,
    DossierReminder,
    DropoffCodeExpired,
)
from .ids import CompartmentId
from .items import Item, ItemKind, ItemStage
from .opening import advance
from .opens import OpenInput
from .policy import LockerPolicy
from .state import LockerConfig, LockerState, Now


@dataclass(frozen=True)
class Deadline:
    mono_s: float | None
    wall_s: float | None


def next_deadline(config: LockerConfig, state: LockerState, *, clock_trusted: bool) -> Deadline:
    policy = config.policy
    mono = [o.deadline_mono_s for o in state.opens.values() if o.deadline_mono_s is not None]
    mono += [
        since + policy.door_ajar_timeout_s
        for c in state.compartments.values()
        if (
            since := _ajar_since(
                c.physical.door, c.physical.door_open_since_mono_s, c.physical.ajar_reported
            )
        )
        is not None
    ]
    wall: list[float] = []
    if clock_trusted:
        wall += [
            due
            for c in state.compartments.values()
            for item in c.items
            if (due := _item_due(item, policy)) is not None
        ]
        wall += [d.expires_wall_s for d in state.dropoffs if d.open_id is None]
    return Deadline(min(mono, default=None), min(wall, default=None))


def _ajar_since(door: DoorReading, since: float | None, reported: bool) -> float | None:
    return since if door is DoorReading.OPEN and not reported else None


def _item_due(item: Item, policy: LockerPolicy) -> float | None:
    if item.stage is not ItemStage.HELD:
        return None
    if item.deadline_wall_s is None:
        # A dossier deposited while the clock was untrusted: due at once, so that
        # ``on_timer`` starts its SLA from the first trusted reading.
        return 0.0 if item.kind is ItemKind.DOSSIER else None
    offsets = policy.reminder_offsets_descending()
    if item.reminders_sent < len(offsets):
        return item.deadline_wall_s - offsets[item.reminders_sent]
    return item.deadline_wall_s


def on_timer(config: LockerConfig, state: LockerState, now: Now) -> Decision:
    tx = Tx(config, state, now)
    for open_ in list(state.opens.values()):
        if open_.deadline_mono_s is not None and open_.deadline_mono_s <= now.mono_s:
            current = tx.state.opens.get(open_.open_id)
            if current is not None:
                advance(tx, current, OpenInput.TIMEOUT)
    _door_ajar(tx)
    if now.clock_trusted:
        _business_deadlines(tx)
        _expire_dropoff_codes(tx)
    return tx.decision()


def _door_ajar(tx: Tx) -> None:
    limit = tx.config.policy.door_ajar_timeout_s
    for compartment in list(tx.state.compartments.values()):
        physical = compartment.physical
        since = _ajar_since(physical.door, physical.door_open_since_mono_s, physical.ajar_reported)
        if since is not None and since + limit <= tx.now.mono_s:
            tx.put(replace(compartment, physical=replace(physical, ajar_reported=True)))
            tx.events.append(DoorAjar(compartment.id))
            tx.record(SystemActor("timer"), "door_ajar", granted=False, compartment=compartment.id)


def _business_deadlines(tx: Tx) -> None:
    for compartment in list(tx.state.compartments.values()):
        items = tuple(_advance_item(tx, compartment.id, item) for item in compartment.items)
        if items != compartment.items:
            tx.put(replace(tx.compartment(compartment.id), items=items))


def _advance_item(tx: Tx, compartment: CompartmentId, item: Item) -> Item:
    policy, now = tx.config.policy, tx.now.wall_s
    if item.stage is not ItemStage.HELD:
        return item
    if item.deadline_wall_s is None:
        if item.kind is ItemKind.DOSSIER:
            deadline = now + policy.dossier_collection_sla_s
            return replace(
                item, deadline_wall_s=deadline, reminders_sent=policy.reminders_due(deadline, now)
            )
        return item
    deadline = item.deadline_wall_s
    offsets = policy.reminder_offsets_descending()
    certificate = item.kind is ItemKind.CERTIFICATE
    if now >= deadline:
        event = (
            CertificateOverdue(
                compartment, item.item_id, item.claim.department, item.claim.owner, deadline
            )
            if certificate
            else DossierOverdue(compartment, item.item_id, item.claim.department, deadline)
        )
        tx.events.append(event)
        return replace(item, stage=ItemStage.OVERDUE, reminders_sent=len(offsets))
    due = policy.reminders_due(deadline, now)
    if due <= item.reminders_sent:
        return item
    # Only the latest due reminder: a clock jump must not send a burst of SMS.
    tx.events.append(
        CertificateReminder(compartment, item.item_id, item.claim.owner, deadline)
        if certificate
        else DossierReminder(compartment, item.item_id, item.claim.department, deadline)
    )
    return replace(item, reminders_sent=due)


def _expire_dropoff_codes(tx: Tx) -> None:
    expired = [
        d for d in tx.state.dropoffs if d.open_id is None and d.expires_wall_s <= tx.now.wall_s
    ]
    if not expired:
        return
    tx.state = replace(tx.state, dropoffs=tuple(d for d in tx.state.dropoffs if d not in expired))
    tx.events.extend(DropoffCodeExpired(d.application) for d in expired)
