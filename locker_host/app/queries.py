"""Read-only views for the local pages and metrics: the audit log and the outbox.

They read through the service's store runner (never the write lock) and
return the app's own values, so the HTTP adapter needs nothing of the store.
An audit line leaves out the personal-data reference and its commitment:
they mean nothing to a reader and only point at personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .service import LockerService

AUDIT_LIMIT_MAX = 10_000


@dataclass(frozen=True)
class AuditQuery:
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    actor: str | None = None  # ``staff`` also finds ``staff:S001``
    action: str | None = None
    limit: int = 100
    newest_first: bool = True


@dataclass(frozen=True)
class AuditLine:
    seq: int
    recorded_at: datetime
    actor: str
    action: str
    outcome: str  # ok | denied | failed
    compartment: str | None
    details: Mapping[str, Any]
    hash: str


@dataclass(frozen=True)
class OutboxFigures:
    head_seq: int
    acked_seq: int
    pending: int
    oldest_pending_age_s: float | None
    dropped_total: int


async def read_audit(service: LockerService, query: AuditQuery) -> list[AuditLine]:
    limit = max(0, min(query.limit, AUDIT_LIMIT_MAX))
    entries = await service.runner.run(
        lambda store: store.search_audit(
            since=query.since,
            until=query.until,
            actor=query.actor,
            action=query.action,
            limit=limit,
            newest_first=query.newest_first,
        )
    )
    return [
        AuditLine(
            e.seq, e.recorded_at, e.actor, e.action, e.outcome, e.compartment, e.details, e.hash
        )
        for e in entries
    ]


async def outbox_figures(service: LockerService) -> OutboxFigures:
    stats = await service.runner.run(lambda store: store.outbox_statistics())
    age = stats.oldest_pending_age(datetime.fromtimestamp(service.now().wall_s, UTC))
    return OutboxFigures(
        stats.head_seq,
        stats.acked_seq,
        stats.pending,
        None if age is None else max(age.total_seconds(), 0.0),
        stats.dropped_total,
    )
