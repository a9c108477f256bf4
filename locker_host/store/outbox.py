"""The durable outbox of events for the central system.

Sequence numbers. Every event gets ``seq`` = previous + 1, assigned in the same
transaction as the state and audit rows it belongs to, starting at 1 and
**continuing across boots** (it never restarts). One number per device is
therefore enough for the central side to de-duplicate (QoS 1 delivers at
least once) and to acknowledge cumulatively: "received everything up to N".
``boot_id`` travels with each event so the central side also sees restarts,
and an ack names it so that an ack meant for another history of this
database (a restored backup) is refused, not applied.

The table holds only events not yet acknowledged; ``outbox_cursor`` keeps the
last seq assigned (``head_seq``) and acknowledged (``acked_seq``) so that
numbering survives the deletions. The rows present are always one contiguous
range of seq, oldest first.

Bounded retention. With the network down for weeks the outbox would grow
without end; above ``max_pending`` events the oldest are dropped and counted in
``dropped_total``. The central side then sees a jump in seq and asks for a
full state re-publish. :func:`statistics` gives the count, the oldest age and
the drops for a metric and an alarm long before that bound is reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from .codec import (
    BootId,
    EventId,
    JsonObject,
    JsonValue,
    canonical_json,
    format_time,
    load_json_object,
    new_event_id,
    parse_time,
)
from .errors import AckBeyondHead, AckBootMismatch

DEFAULT_MAX_PENDING = 100_000


@dataclass(frozen=True)
class OutgoingEvent:
    """What the service asks to send, e.g. ``OutgoingEvent("certificate.collected", {...})``."""

    type: str
    payload: JsonObject = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxEvent:
    seq: int
    event_id: EventId
    boot_id: BootId
    type: str
    created_at: datetime
    payload: dict[str, JsonValue]


@dataclass(frozen=True)
class OutboxStatistics:
    head_seq: int  # last seq assigned, 0 if none yet
    acked_seq: int  # cumulative ack received
    pending: int  # events waiting for an ack
    oldest_pending_at: datetime | None
    dropped_total: int  # events dropped by the retention bound, ever

    def oldest_pending_age(self, now: datetime) -> timedelta | None:
        return None if self.oldest_pending_at is None else now - self.oldest_pending_at


def append(
    db: sqlite_utils.Database,
    event: OutgoingEvent,
    boot_id: BootId,
    now: datetime,
    *,
    max_pending: int = DEFAULT_MAX_PENDING,
) -> OutboxEvent:
    """Give the event the next seq; the caller holds the write transaction."""
    if max_pending < 1:
        raise ValueError("max_pending must be at least 1")
    head_seq, _, _ = _cursor(db)
    row: dict[str, Any] = {
        "seq": head_seq + 1,
        "event_id": new_event_id(),
        "boot_id": boot_id,
        "type": event.type,
        "created_at": format_time(now),
        "payload": canonical_json(event.payload),
    }
    db.table("outbox").insert(row)
    db.execute("UPDATE outbox_cursor SET head_seq = ? WHERE id = 1", [row["seq"]])
    _enforce_bound(db, max_pending)
    return _event(row)


def pending(
    db: sqlite_utils.Database, *, after_seq: int = 0, limit: int = 100
) -> list[OutboxEvent]:
    """Unacknowledged events with seq > ``after_seq``, oldest first."""
    sql = (
        "SELECT seq, event_id, boot_id, type, created_at, payload FROM outbox"
        " WHERE seq > ? ORDER BY seq LIMIT ?"
    )
    return [_event(row) for row in db.query(sql, [after_seq, limit])]


def ack_through(db: sqlite_utils.Database, boot_id: str, seq: int) -> int:
    """Cumulative ack of every event up to ``seq``; return how many were newly acknowledged.

    Repeating an ack (or acking less than before) is a no-op, as QoS 1 delivers
    acks more than once too. The caller holds the write transaction.
    """
    head_seq, acked_seq, _ = _cursor(db)
    if seq <= acked_seq:
        return 0
    if seq > head_seq:
        raise AckBeyondHead(seq, head_seq)
    stored = db.execute("SELECT boot_id FROM outbox WHERE seq = ?", [seq]).fetchone()
    # A missing row was dropped by the retention bound: nothing left to check.
    if stored is not None and stored[0] != boot_id:
        raise AckBootMismatch(seq, boot_id, stored[0])
    removed = db.execute("DELETE FROM outbox WHERE seq <= ?", [seq]).rowcount
    db.execute("UPDATE outbox_cursor SET acked_seq = ? WHERE id = 1", [seq])
    return removed


def statistics(db: sqlite_utils.Database) -> OutboxStatistics:
    head_seq, acked_seq, dropped_total = _cursor(db)
    oldest = db.execute("SELECT seq, created_at FROM outbox ORDER BY seq LIMIT 1").fetchone()
    return OutboxStatistics(
        head_seq=head_seq,
        acked_seq=acked_seq,
        pending=0 if oldest is None else head_seq - int(oldest[0]) + 1,
        oldest_pending_at=None if oldest is None else parse_time(oldest[1]),
        dropped_total=dropped_total,
    )


def _enforce_bound(db: sqlite_utils.Database, max_pending: int) -> None:
    head_seq, _, _ = _cursor(db)
    oldest = db.execute("SELECT min(seq) FROM outbox").fetchone()[0]
    if oldest is None:
        return
    excess = (head_seq - int(oldest) + 1) - max_pending
    if excess > 0:
        db.execute("DELETE FROM outbox WHERE seq < ?", [int(oldest) + excess])
        db.execute(
            "UPDATE outbox_cursor SET dropped_total = dropped_total + ? WHERE id = 1", [excess]
        )


def _cursor(db: sqlite_utils.Database) -> tuple[int, int, int]:
    row = db.execute(
        "SELECT head_seq, acked_seq, dropped_total FROM outbox_cursor WHERE id = 1"
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def _event(row: Mapping[str, Any]) -> OutboxEvent:
    return OutboxEvent(
        seq=row["seq"],
        event_id=EventId(row["event_id"]),
        boot_id=BootId(row["boot_id"]),
        type=row["type"],
        created_at=parse_time(row["created_at"]),
        payload=load_json_object(row["payload"]),
    )
