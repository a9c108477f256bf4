"""Starting opens and moving them along their lifecycle (``opens.py``).

``start_opens`` is the only place that emits ``PulseLock`` for a new open, and
it always writes the granted audit record with the same ``open_id`` first: no
open without an audit record. ``advance`` feeds one input to an open and
carries out the table's action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import assert_never

from .actors import Actor
from .closing import Content, resolve_closed, resolve_jammed, resolve_unknown
from .compartment import DoorReading, ItemReading
from .decision import Tx
from .effects import PulseLock, ReadBoard
from .events import OpenOpened
from .ids import CompartmentId, ItemId
from .opens import Action, Open, OpenInput, OpenState, Outcome, Purpose, step
from .replies import OpenStarted
from .stagger import PulseSlot, stagger


@dataclass(frozen=True)
class OpenRequest:
    compartment: CompartmentId
    purpose: Purpose
    actor: Actor
    items: tuple[ItemId, ...] = ()
    reason: str = ""


def start_opens(tx: Tx, action: str, requests: Sequence[OpenRequest]) -> tuple[OpenStarted, ...]:
    policy = tx.config.policy
    specs = [tx.spec(r.compartment) for r in requests]
    delays = stagger(
        [PulseSlot(s.wiring.board, s.wiring.power_supply, policy.pulse_ms) for s in specs],
        max_simultaneous=policy.max_simultaneous_pulses,
        max_per_supply=policy.max_pulses_per_power_supply,
        gap_ms=policy.pulse_gap_ms,
    )
    started = []
    for request, spec, delay_ms in zip(requests, specs, delays, strict=True):
        open_id = tx.new_open_id()
        compartment = tx.compartment(request.compartment)
        assert compartment.open_id is None, "one open at a time per compartment"
        starts_at = tx.now.mono_s + delay_ms / 1000
        if not spec.has_door_switch:
            # Degraded: nothing will tell us the door opened or closed.
            state, outcome = OpenState.OPEN, Outcome.ASSUMED_OPEN
            deadline: float | None = starts_at + policy.hand_confirm_timeout_s
        elif compartment.physical.door is DoorReading.OPEN:
            state, outcome, deadline = OpenState.OPEN, Outcome.ALREADY_OPEN, None
        else:
            state, outcome = OpenState.PULSED, None
            deadline = starts_at + policy.open_confirm_timeout_s
        open_ = Open(
            open_id=open_id,
            compartment=request.compartment,
            purpose=request.purpose,
            actor=request.actor,
            state=state,
            outcome=outcome,
            deadline_mono_s=deadline,
            items=request.items,
            reason=request.reason,
        )
        tx.record(
            request.actor,
            action,
            granted=True,
            compartment=request.compartment,
            open_id=open_id,
            detail=_detail(request),
        )
        tx.put_open(open_)
        tx.put(replace(compartment, open_id=open_id, pulse_count=compartment.pulse_count + 1))
        tx.effects.append(
            PulseLock(
                open_id,
                request.compartment,
                spec.wiring.board,
                spec.wiring.channel,
                policy.pulse_ms,
                delay_ms,
            )
        )
        if outcome is not None:
            tx.events.append(OpenOpened(request.compartment, open_id, request.purpose, outcome))
        started.append(OpenStarted(open_id, request.compartment))
    return tuple(started)


def _detail(request: OpenRequest) -> str:
    """The purpose, and the reason staff or the central system typed (remote and
    maintenance opens; the commands bound its length)."""
    reason = request.reason.strip()
    return f"{request.purpose.value}: {reason}" if reason else request.purpose.value


def advance(tx: Tx, open_: Open, event: OpenInput, content: Content | None = None) -> None:
    """Feed ``event`` to ``open_``; ``content`` resolves a close (sensor or hand)."""
    next_ = step(open_.state, event)
    policy = tx.config.policy
    now = tx.now.mono_s
    updated = replace(open_, state=next_.state)
    match next_.action:
        case Action.NONE:
            pass
        case Action.OPENED:
            updated = replace(updated, outcome=Outcome.OPENED, deadline_mono_s=None)
            tx.events.append(
                OpenOpened(open_.compartment, open_.open_id, open_.purpose, Outcome.OPENED)
            )
        case Action.READ_BOARD:
            updated = replace(updated, deadline_mono_s=now + policy.open_confirm_timeout_s)
            tx.effects.append(ReadBoard(tx.spec(open_.compartment).wiring.board, open_.open_id))
        case Action.PULSE_AGAIN:
            updated = replace(updated, deadline_mono_s=now + policy.open_confirm_timeout_s)
            _pulse_again(tx, open_)
        case Action.AWAIT_HAND:
            updated = replace(updated, deadline_mono_s=now + policy.hand_confirm_timeout_s)
        case Action.RESOLVE:
            _finish(tx, open_)
            resolve_closed(tx, open_, content or _sensed(tx, open_))
            return
        case Action.RESOLVE_DEFAULT:
            _finish(tx, open_)
            resolve_closed(tx, open_, Content.UNCONFIRMED)
            return
        case Action.JAMMED:
            _finish(tx, open_)
            resolve_jammed(tx, open_)
            return
        case Action.UNKNOWN:
            _finish(tx, open_)
            resolve_unknown(tx, open_)
            return
        case _:
            assert_never(next_.action)
    tx.put_open(updated)


def _pulse_again(tx: Tx, open_: Open) -> None:
    """The one retry after a read confirmed the door is still shut."""
    spec = tx.spec(open_.compartment)
    compartment = tx.compartment(open_.compartment)
    tx.put(replace(compartment, pulse_count=compartment.pulse_count + 1))
    tx.effects.append(
        PulseLock(
            open_.open_id,
            open_.compartment,
            spec.wiring.board,
            spec.wiring.channel,
            tx.config.policy.pulse_ms,
            0,
        )
    )


def _sensed(tx: Tx, open_: Open) -> Content:
    reading = tx.compartment(open_.compartment).physical.item
    if reading is ItemReading.PRESENT:
        return Content.PRESENT
    if reading is ItemReading.ABSENT:
        return Content.ABSENT
    return Content.UNCONFIRMED


def _finish(tx: Tx, open_: Open) -> None:
    tx.drop_open(open_.open_id)
    compartment = tx.compartment(open_.compartment)
    tx.put(replace(compartment, open_id=None))
