"""Small builders and raw-SQL helpers shared by the store tests."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from locker_host.store import (
    AuditOutcome,
    AuditRecord,
    Document,
    OutgoingEvent,
    StateChanges,
    Store,
    UnitOfWork,
)


def raw(path: Path) -> sqlite3.Connection:
    """A second, plain connection: what a person with a sqlite3 shell on the box has."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def audit_record(n: int, outcome: AuditOutcome = AuditOutcome.OK) -> AuditRecord:
    return AuditRecord(
        actor=f"staff:S{n:03d}",
        action="compartment.open",
        outcome=outcome,
        compartment=f"A{n % 48 + 1:02d}",
        details={"n": n, "purpose": "load"},
    )


def write_audit(store: Store, count: int, now: datetime) -> None:
    outcomes = list(AuditOutcome)
    for n in range(count):
        store.commit(UnitOfWork(audit=[audit_record(n, outcomes[n % len(outcomes)])]), now=now)


def events_work(count: int, first: int = 0) -> UnitOfWork:
    return UnitOfWork(events=[OutgoingEvent("door.closed", {"n": first + i}) for i in range(count)])


def item_work(item_id: str, **body: Any) -> UnitOfWork:
    return UnitOfWork(state=StateChanges(put=[Document("item", item_id, body)]))


def drop_audit_triggers(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")


def documented_hash(row: sqlite3.Row) -> str:
    """The audit row hash as specified, computed independently of locker_host.store."""
    fields = {
        "format": 1,
        "seq": row["seq"],
        "recorded_at": row["recorded_at"],
        "boot_id": row["boot_id"],
        "actor": row["actor"],
        "action": row["action"],
        "outcome": row["outcome"],
        "compartment": row["compartment"],
        "details": json.loads(row["details"]),
        "personal_ref": row["personal_ref"],
        "personal_commitment": row["personal_commitment"],
        "prev_hash": row["prev_hash"],
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
