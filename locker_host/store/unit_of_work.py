"""One atomic write: everything a decision produced, committed before it is acted on.

The service's loop is load -> decide -> **save** -> act (DESIGN.md section 2).
A :class:`UnitOfWork` is the "save" step as a value: state documents, new
personal data, items that ended, audit records, outgoing events and the reply
to the command that caused it. :func:`commit` writes all of it in one
``BEGIN IMMEDIATE`` transaction with ``synchronous=FULL``; when it returns,
the decision is on disk and survives ``kill -9`` and power loss, and only then
may the service pulse a lock or publish. If anything inside raises, nothing
at all is written.

A crash between commit and act leaves an intent without its effect (an open
whose outcome was never recorded); reconciliation at start-up reports it as
``outcome_unknown`` and never re-executes it. The other order would leave an
effect without a record, which nothing can reconcile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlite_utils

from . import audit, commands, outbox, personal, state
from .audit import AuditEntry, AuditRecord, ChainHead
from .codec import BootId
from .commands import CommandReply
from .database import write_transaction
from .outbox import DEFAULT_MAX_PENDING, OutboxEvent, OutgoingEvent
from .personal import PersonalRecord
from .state import StateChanges


@dataclass(frozen=True)
class UnitOfWork:
    state: StateChanges = field(default_factory=StateChanges)
    personal: Sequence[PersonalRecord] = ()  # new rows; audit records below may refer to them
    ended_items: Sequence[str] = ()  # item ids whose personal data starts its retention clock
    audit: Sequence[AuditRecord] = ()
    events: Sequence[OutgoingEvent] = ()
    command: CommandReply | None = None


@dataclass(frozen=True)
class CommitReceipt:
    audit: tuple[AuditEntry, ...]
    events: tuple[OutboxEvent, ...]
    chain_head: ChainHead  # publish this with the state


def commit(
    db: sqlite_utils.Database,
    work: UnitOfWork,
    *,
    boot_id: BootId,
    now: datetime,
    max_pending: int = DEFAULT_MAX_PENDING,
) -> CommitReceipt:
    with write_transaction(db):
        for record in work.personal:
            personal.insert(db, record, now)
        state.apply_changes(db, work.state, now)
        for item_id in work.ended_items:
            personal.end_item(db, item_id, now)
        entries = tuple(audit.append(db, record, boot_id, now) for record in work.audit)
        events = tuple(
            outbox.append(db, event, boot_id, now, max_pending=max_pending) for event in work.events
        )
        if work.command is not None:
            commands.record(db, work.command, now)
        head = audit.chain_head(db)
    return CommitReceipt(audit=entries, events=events, chain_head=head)
