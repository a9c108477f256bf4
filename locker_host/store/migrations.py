"""Versioned schema migrations, tracked in ``PRAGMA user_version``.

Each migration runs in its own ``BEGIN IMMEDIATE`` transaction together with
the ``user_version`` bump (both are transactional in SQLite), so a crash or an
error leaves the file at the previous version, never in between. Migrations
are append-only history: never edit a released one, add the next. A database
whose version is newer than :data:`LATEST_VERSION` was written by newer code
and is refused (:class:`SchemaTooNew`) rather than guessed at.

``PRAGMA application_id`` marks the file as ours, so that pointing the daemon
at some other SQLite file fails loudly instead of "migrating" it.

Version history:

1. Initial schema: boots, state documents, personal data, the audit chain,
   the outbox.
2. Command de-duplication (``commands``) and the index that makes the
   personal-data purge a range scan instead of a table scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from .database import write_transaction
from .errors import ForeignDatabase, SchemaTooNew

APPLICATION_ID = 0x4C4B5231  # "LKR1"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


_V1 = Migration(
    version=1,
    name="initial schema",
    statements=(
        f"PRAGMA application_id = {APPLICATION_ID}",
        # One row per process start; boot_no orders them.
        """CREATE TABLE boots (
            boot_no        INTEGER PRIMARY KEY,
            boot_id        TEXT NOT NULL UNIQUE,
            started_at     TEXT NOT NULL,
            schema_version INTEGER NOT NULL
        )""",
        # Domain state as JSON documents (compartments, items, opens, timers),
        # so the store does not depend on the domain's classes.
        """CREATE TABLE state_documents (
            kind       TEXT NOT NULL CHECK (kind <> ''),
            id         TEXT NOT NULL CHECK (id <> ''),
            body       TEXT NOT NULL CHECK (json_valid(body)),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (kind, id)
        ) WITHOUT ROWID""",
        # The only home of personal data. Rows are immutable (the audit chain
        # commits to their content) except ended_at, and are deleted by the
        # purge; nothing references them with a foreign key.
        """CREATE TABLE personal_data (
            ref              TEXT PRIMARY KEY,
            item_id          TEXT,
            owner_key        TEXT,
            key_version      INTEGER,
            pickup_code_hash TEXT,
            nonce            BLOB NOT NULL CHECK (length(nonce) = 32),
            created_at       TEXT NOT NULL,
            ended_at         TEXT,
            CHECK (owner_key IS NOT NULL OR pickup_code_hash IS NOT NULL),
            CHECK ((owner_key IS NULL) = (key_version IS NULL))
        )""",
        "CREATE INDEX personal_data_owner_key ON personal_data (owner_key)"
        " WHERE owner_key IS NOT NULL",
        "CREATE INDEX personal_data_pickup_code ON personal_data (pickup_code_hash)"
        " WHERE pickup_code_hash IS NOT NULL",
        "CREATE INDEX personal_data_item ON personal_data (item_id) WHERE item_id IS NOT NULL",
        """CREATE TRIGGER personal_data_immutable
            BEFORE UPDATE OF ref, item_id, owner_key, key_version, pickup_code_hash, nonce,
                             created_at ON personal_data
            BEGIN SELECT RAISE(ABORT, 'personal_data rows are immutable'); END""",
        # Append-only, hash-chained. seq is assigned gap-free from 1.
        """CREATE TABLE audit_log (
            seq                 INTEGER PRIMARY KEY CHECK (seq > 0),
            recorded_at         TEXT NOT NULL,
            boot_id             TEXT NOT NULL REFERENCES boots (boot_id),
            actor               TEXT NOT NULL,
            action              TEXT NOT NULL,
            outcome             TEXT NOT NULL,
            compartment         TEXT,
            details             TEXT NOT NULL CHECK (json_valid(details)),
            personal_ref        TEXT,
            personal_commitment TEXT,
            prev_hash           TEXT NOT NULL,
            hash                TEXT NOT NULL,
            CHECK ((personal_ref IS NULL) = (personal_commitment IS NULL))
        )""",
        """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
        """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
        # Only unacknowledged events are kept; the counters survive the
        # deletions so that seq continues gap-free.
        """CREATE TABLE outbox (
            seq        INTEGER PRIMARY KEY CHECK (seq > 0),
            event_id   TEXT NOT NULL UNIQUE,
            boot_id    TEXT NOT NULL REFERENCES boots (boot_id),
            type       TEXT NOT NULL,
            created_at TEXT NOT NULL,
            payload    TEXT NOT NULL CHECK (json_valid(payload))
        )""",
        """CREATE TABLE outbox_cursor (
            id            INTEGER PRIMARY KEY CHECK (id = 1),
            head_seq      INTEGER NOT NULL,
            acked_seq     INTEGER NOT NULL,
            dropped_total INTEGER NOT NULL,
            CHECK (0 <= acked_seq AND acked_seq <= head_seq)
        )""",
        "INSERT INTO outbox_cursor (id, head_seq, acked_seq, dropped_total) VALUES (1, 0, 0, 0)",
    ),
)

_V2 = Migration(
    version=2,
    name="command de-duplication, personal-data purge index",
    statements=(
        # command_id -> the reply already given, kept at least until the
        # command itself expires (so a replay is either answered the same or
        # refused as stale, never executed twice).
        """CREATE TABLE commands (
            command_id  TEXT PRIMARY KEY,
            received_at TEXT NOT NULL,
            keep_until  TEXT NOT NULL,
            reply       TEXT NOT NULL CHECK (json_valid(reply))
        ) WITHOUT ROWID""",
        "CREATE INDEX commands_keep_until ON commands (keep_until)",
        "CREATE INDEX personal_data_ended ON personal_data (ended_at) WHERE ended_at IS NOT NULL",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (_V1, _V2)
LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    db: sqlite_utils.Database,
    *,
    target: int = LATEST_VERSION,
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> tuple[int, ...]:
    """Bring the schema up to ``target``; return the versions applied."""
    _check_ownership(db)
    supported = migrations[-1].version if migrations else 0
    found = schema_version(db)
    if found > supported:
        raise SchemaTooNew(found, supported)
    applied = []
    for migration in migrations:
        if found < migration.version <= target:
            with write_transaction(db):
                for statement in migration.statements:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {migration.version}")
            applied.append(migration.version)
    return tuple(applied)


def _check_ownership(db: sqlite_utils.Database) -> None:
    application_id = int(db.execute("PRAGMA application_id").fetchone()[0])
    if application_id == APPLICATION_ID:
        return
    if application_id != 0 or db.table_names():
        raise ForeignDatabase(application_id)
