"""Alarms: what waits for a person to look, derived from the state, and their acknowledgement.

An alarm is not stored as such: it is *read* from the state, so it can never
disagree with it (DESIGN.md 4.7):

* a compartment's fault (``FaultReason``: forced door, jammed open, unexpected
  or missing item, an open whose outcome is unknown) while it is faulty;
* a door reported ajar (``Physical.ajar_reported``) while it stays open;
* a board that is offline.

The alarm's id names its kind and its subject, ``door.forced@A03`` or
``board.offline@bus0:1`` (a board key's ``/`` becomes ``:`` so the id fits
in one URL path segment), so the same condition keeps the same id for as long
as it lasts.

Acknowledging (``AcknowledgeAlarm``) says that someone has seen it; it changes
nothing else, since only fixing the cause (maintenance, back in service, the
board answering again) clears an alarm. The acknowledgement lives in
``LockerState.alarm_acks`` and is dropped by ``prune_acks`` as soon as its
alarm is gone (every decision ends with it), so the next occurrence of the same
condition is a new, unacknowledged alarm. The command's flow is in
``acknowledge.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from .compartment import DoorReading, FaultReason
from .ids import CompartmentId
from .state import AlarmAck, BoardStatus, LockerState


class AlarmKind(StrEnum):
    # The names of the events that raise them (events.py).
    DOOR_FORCED = "door.forced"
    DOOR_AJAR = "door.ajar"
    OPEN_JAMMED = "open.jammed"
    OPEN_OUTCOME_UNKNOWN = "open.outcome_unknown"
    ITEM_UNEXPECTED = "item.unexpected"
    ITEM_MISSING = "item.missing"
    BOARD_OFFLINE = "board.offline"


_FAULT_KINDS: Mapping[FaultReason, AlarmKind] = {
    FaultReason.FORCED: AlarmKind.DOOR_FORCED,
    FaultReason.JAMMED: AlarmKind.OPEN_JAMMED,
    FaultReason.OUTCOME_UNKNOWN: AlarmKind.OPEN_OUTCOME_UNKNOWN,
    FaultReason.UNEXPECTED_ITEM: AlarmKind.ITEM_UNEXPECTED,
    FaultReason.MISSING_ITEM: AlarmKind.ITEM_MISSING,
}


@dataclass(frozen=True)
class Alarm:
    alarm_id: str
    kind: AlarmKind
    compartment: CompartmentId | None  # None: a board alarm
    board: str | None  # the board key (``bus0/1``) of a board alarm
    acknowledged: AlarmAck | None


def alarm_id(kind: AlarmKind, subject: str) -> str:
    return f"{kind.value}@{subject.replace('/', ':')}"


def active_alarms(state: LockerState) -> tuple[Alarm, ...]:
    """Every alarm the state holds now: compartments in id order, then boards."""
    found: list[Alarm] = []
    for cid in sorted(state.compartments):
        compartment = state.compartments[cid]
        # Faults are kept only while the compartment is faulty (compartment.py).
        kinds = [_FAULT_KINDS[f] for f in compartment.faults]
        physical = compartment.physical
        if physical.ajar_reported and physical.door is DoorReading.OPEN:
            kinds.append(AlarmKind.DOOR_AJAR)
        for kind in kinds:
            aid = alarm_id(kind, cid)
            found.append(Alarm(aid, kind, cid, None, state.alarm_acks.get(aid)))
    for key in sorted(state.boards):
        if state.boards[key] is BoardStatus.OFFLINE:
            aid = alarm_id(AlarmKind.BOARD_OFFLINE, key)
            found.append(Alarm(aid, AlarmKind.BOARD_OFFLINE, None, key, state.alarm_acks.get(aid)))
    return tuple(found)


def prune_acks(state: LockerState) -> LockerState:
    """Forget the acknowledgements of alarms that are gone."""
    if not state.alarm_acks:
        return state
    active = {a.alarm_id for a in active_alarms(state)}
    kept = {aid: ack for aid, ack in state.alarm_acks.items() if aid in active}
    return state if len(kept) == len(state.alarm_acks) else replace(state, alarm_acks=kept)
