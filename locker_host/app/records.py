"""Domain audit records and events in the store's shape.

An audit row names its actor in plain words (``citizen``, ``staff:S001``,
``central:ops``, ``system:timer``); a citizen's owner key goes to a
``personal_data`` row of its own (no item: it ends when written and is purged
after the retention period) and the audit row refers to it by ``personal_ref``.
Outcomes: granted is ``ok``; a refused command is ``denied``; an alarm or a
failure the locker itself records (a forced door, an unmatched sensor
reading) is ``failed``.

The app adds rows of its own for what the domain never sees: a command refused
before the domain (expired, an unknown staff card) and what start-up changed.

Events keep their domain form, owner keys included: the central system
computes the same keys and needs them to tell the owner (never an ID number
or a code: the domain's events carry neither).
"""

from __future__ import annotations

from typing import Any, assert_never

from locker_host.domain import (
    AuditRecord,
    CentralActor,
    CitizenActor,
    Event,
    Now,
    StaffActor,
    SystemActor,
    event_to_dict,
)
from locker_host.store import AuditOutcome, OutgoingEvent, PersonalRecord, new_personal_ref
from locker_host.store import AuditRecord as StoredAudit

from .layout_change import LayoutChange

_START = "system:start"


def audit_row(record: AuditRecord) -> tuple[StoredAudit, PersonalRecord | None]:
    actor, actor_details, personal = _actor(record)
    if record.granted:
        outcome = AuditOutcome.OK
    elif record.refusal_code is not None:
        outcome = AuditOutcome.DENIED
    else:
        outcome = AuditOutcome.FAILED
    details: dict[str, Any] = {
        "at_wall_s": record.at_wall_s,
        "clock_trusted": record.clock_trusted,
        "open_id": record.open_id,
        "refusal_code": record.refusal_code,
        "detail": record.detail,
        **actor_details,
    }
    row = StoredAudit(
        actor=actor,
        action=record.action,
        outcome=outcome,
        compartment=record.compartment,
        details=details,
        personal_ref=None if personal is None else personal.ref,
    )
    return row, personal


def _actor(record: AuditRecord) -> tuple[str, dict[str, Any], PersonalRecord | None]:
    match record.actor:
        case CitizenActor(owner=owner, assurance=assurance, with_code=with_code):
            personal = None
            if owner is not None:
                personal = PersonalRecord(
                    new_personal_ref(), owner_key=owner.key, key_version=owner.key_version
                )
            details = {
                "assurance": None if assurance is None else assurance.value,
                "with_code": with_code,
            }
            return "citizen", details, personal
        case StaffActor(staff_id=staff_id, department=department, role=role):
            return f"staff:{staff_id}", {"department": department, "role": role.value}, None
        case CentralActor(operator=operator, command_id=command_id):
            return f"central:{operator}", {"command_id": command_id}, None
        case SystemActor(reason=reason):
            return f"system:{reason}" if reason else "system", {}, None
        case _:
            assert_never(record.actor)


def outgoing_event(event: Event) -> OutgoingEvent:
    payload = event_to_dict(event)
    name = payload.pop("event")
    assert isinstance(name, str)
    return OutgoingEvent(name, payload)


def denial_row(actor: str, action: str, code: str, now: Now, **details: Any) -> StoredAudit:
    return StoredAudit(
        actor=actor,
        action=action,
        outcome=AuditOutcome.DENIED,
        details={
            "at_wall_s": now.wall_s,
            "clock_trusted": now.clock_trusted,
            "refusal_code": code,
            **details,
        },
    )


def start_rows(change: LayoutChange, missing_personal_refs: int) -> list[StoredAudit]:
    rows = []
    if change:
        changed = {"added": list(change.added), "removed": list(change.removed)}
        rows.append(StoredAudit(_START, "layout_changed", AuditOutcome.OK, details=changed))
    if missing_personal_refs:
        # A damaged database: staff should look at the items that lost an owner or a code.
        missing = {"refs": missing_personal_refs}
        rows.append(
            StoredAudit(_START, "personal_data_missing", AuditOutcome.FAILED, details=missing)
        )
    return rows
