"""PostgreSQL: the lockers the central system knows, and their events, stored once.

``lockers`` holds, per locker, ``acked_seq``: every seq from 1 through it is stored
(the contiguous prefix), and ``acked_boot_id``, the ``boot_id`` of the event with
that seq, which is what ``events/ack`` carries (docs/asyncapi: ``event-ack.json``).

``events`` is keyed by ``event_id`` and unique by (site, locker, seq): a redelivery
(same ``event_id``) stores nothing; a different ``event_id`` for a stored seq breaks
the contract and is refused (``conflict``), never overwrites.

Every ``store_event`` is one transaction that first locks the locker's row, so two
consumer processes storing events of one locker take turns and the prefix each
computes includes what the other stored.
"""

from __future__ import annotations

import contextlib
import enum
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

SCHEMA = """
CREATE TABLE IF NOT EXISTS lockers (
    site          text   NOT NULL,
    locker        text   NOT NULL,
    acked_seq     bigint NOT NULL DEFAULT 0,
    acked_boot_id text,
    PRIMARY KEY (site, locker)
);
CREATE TABLE IF NOT EXISTS events (
    event_id    uuid        PRIMARY KEY,
    site        text        NOT NULL,
    locker      text        NOT NULL,
    seq         bigint      NOT NULL,
    boot_id     text        NOT NULL,
    type        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    payload     jsonb       NOT NULL,
    stored_by   text        NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site, locker, seq),
    FOREIGN KEY (site, locker) REFERENCES lockers (site, locker)
);
"""

REQUIRED = ("site", "locker", "boot_id", "seq", "event_id", "type", "created_at", "payload")


class EventOutcome(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # the same event_id again: nothing new stored
    UNKNOWN_LOCKER = "unknown_locker"  # not in ``lockers``: nothing stored
    CONFLICT = "conflict"  # another event_id already holds this seq: nothing stored
    INVALID = "invalid"  # not an event of the contract: nothing stored


@dataclass(frozen=True)
class Stored:
    outcome: EventOutcome
    site: str | None = None
    locker: str | None = None
    acked_seq: int = 0  # the locker's contiguous prefix after this event
    acked_boot_id: str | None = None
    detail: str = ""


class InvalidEvent(ValueError):
    pass


def parse_event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise InvalidEvent("not a JSON object")
    missing = [name for name in REQUIRED if name not in event]
    if missing:
        raise InvalidEvent(f"missing {', '.join(missing)}")
    seq = event["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise InvalidEvent("seq must be a positive integer")
    for name in ("site", "locker", "boot_id", "event_id", "type", "created_at"):
        if not isinstance(event[name], str) or not event[name]:
            raise InvalidEvent(f"{name} must be a non-empty string")
    try:
        datetime.fromisoformat(event["created_at"])
    except ValueError as exc:
        raise InvalidEvent(f"created_at: {exc}") from exc
    if not isinstance(event["payload"], dict):
        raise InvalidEvent("payload must be an object")
    return event


class Store:
    """One connection, one transaction per event; psycopg's errors are the caller's."""

    def __init__(self, dsn: str, name: str) -> None:
        self._dsn = dsn
        self._name = name
        self._conn: psycopg.Connection[Any] | None = None

    def connect(self) -> None:
        self.close()
        self._conn = psycopg.connect(self._dsn, connect_timeout=5)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self.connect()
        assert self._conn is not None
        return self._conn

    def create_schema(self) -> None:
        with self.conn.transaction():
            self.conn.execute(SCHEMA)

    def register(self, site: str, locker: str) -> None:
        with self.conn.transaction():
            self.conn.execute(
                "INSERT INTO lockers (site, locker) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (site, locker),
            )

    def store_event(self, event: dict[str, Any]) -> Stored:
        site, locker, seq = event["site"], event["locker"], event["seq"]
        conn = self.conn
        with conn.transaction():
            row = conn.execute(
                "SELECT acked_seq, acked_boot_id FROM lockers"
                " WHERE site = %s AND locker = %s FOR UPDATE",
                (site, locker),
            ).fetchone()
            if row is None:
                return Stored(EventOutcome.UNKNOWN_LOCKER, site, locker)
            acked_seq, acked_boot_id = int(row[0]), row[1]
            inserted = conn.execute(
                "INSERT INTO events (event_id, site, locker, seq, boot_id, type, created_at,"
                " payload, stored_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING RETURNING seq",
                (
                    event["event_id"],
                    site,
                    locker,
                    seq,
                    event["boot_id"],
                    event["type"],
                    event["created_at"],
                    json.dumps(event["payload"]),
                    self._name,
                ),
            ).fetchone()
            if inserted is None:
                same = conn.execute(
                    "SELECT 1 FROM events WHERE event_id = %s AND site = %s AND locker = %s"
                    " AND seq = %s",
                    (event["event_id"], site, locker, seq),
                ).fetchone()
                outcome = EventOutcome.DUPLICATE if same else EventOutcome.CONFLICT
                detail = "" if same else f"seq {seq} is stored with another event_id"
                return Stored(outcome, site, locker, acked_seq, acked_boot_id, detail)
            acked_seq, acked_boot_id = self._advance(site, locker, acked_seq, acked_boot_id)
            return Stored(EventOutcome.STORED, site, locker, acked_seq, acked_boot_id)

    def _advance(
        self, site: str, locker: str, acked_seq: int, acked_boot_id: str | None
    ) -> tuple[int, str | None]:
        """Move the prefix over the stored seqs that follow it without a hole."""
        conn = self.conn
        rows = conn.execute(
            "SELECT seq, boot_id FROM events WHERE site = %s AND locker = %s AND seq > %s"
            " ORDER BY seq LIMIT 10000",
            (site, locker, acked_seq),
        ).fetchall()
        start = acked_seq
        for seq, boot_id in rows:
            if seq != acked_seq + 1:
                break
            acked_seq, acked_boot_id = int(seq), str(boot_id)
        if acked_seq != start:
            conn.execute(
                "UPDATE lockers SET acked_seq = %s, acked_boot_id = %s"
                " WHERE site = %s AND locker = %s",
                (acked_seq, acked_boot_id, site, locker),
            )
        return acked_seq, acked_boot_id
