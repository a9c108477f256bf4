"""The store's front door: one object per open database, the only one that
translates sqlite3 exceptions (through :func:`errors.map_sqlite_errors`).

A :class:`Store` is synchronous and bound to the thread that opened it (the
sqlite3 default). The daemon opens it on the writer thread of
:class:`~locker_host.store.runner.StoreRunner` and calls it only through that;
tests and tools may use it directly.

Opening does, in order: connect with the durability pragmas, ``quick_check``,
migrate to the latest schema (or refuse a newer one), and record a new boot.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import sqlite_utils

from . import audit, commands, outbox, personal, state
from .audit import AuditEntry, AuditOutcome, AuditRecord, ChainHead, ChainVerification
from .boots import Boot, known_boot, record_boot
from .codec import BootId, format_time
from .commands import StoredCommandReply
from .database import (
    DEFAULT_BUSY_TIMEOUT,
    checkpoint,
    connect,
    read_transaction,
    write_transaction,
)
from .errors import map_sqlite_errors
from .migrations import migrate, schema_version
from .outbox import DEFAULT_MAX_PENDING, OutboxEvent, OutboxStatistics
from .personal import StoredPersonalRecord
from .state import StateSnapshot
from .unit_of_work import CommitReceipt, UnitOfWork, commit

T = TypeVar("T")


@dataclass(frozen=True)
class StoreConfig:
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT  # seconds
    outbox_max_pending: int = DEFAULT_MAX_PENDING


class Store:
    def __init__(self, db: sqlite_utils.Database, boot: Boot, config: StoreConfig) -> None:
        # Use Store.open(); this only wires an already opened database.
        self._db = db
        self._boot = boot
        self._config = config

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, now: datetime, config: StoreConfig | None = None
    ) -> Store:
        config = config or StoreConfig()
        with map_sqlite_errors():
            db = connect(path, busy_timeout=config.busy_timeout)
            try:
                migrate(db)
                boot = record_boot(db, now)
            except BaseException:
                db.close()
                raise
        return cls(db, boot, config)

    @property
    def boot(self) -> Boot:
        return self._boot

    @property
    def boot_id(self) -> BootId:
        return self._boot.boot_id

    def known_boot(self, boot_id: str) -> bool:
        """A boot id of this database (this process's or an earlier start's)."""
        return self._read(lambda db: known_boot(db, boot_id))

    def close(self) -> None:
        self._db.close()

    # -- the write path -------------------------------------------------------

    def commit(self, work: UnitOfWork, *, now: datetime) -> CommitReceipt:
        """Save state, personal data, audit, events and command reply atomically."""
        with map_sqlite_errors():
            return commit(
                self._db,
                work,
                boot_id=self._boot.boot_id,
                now=now,
                max_pending=self._config.outbox_max_pending,
            )

    # -- state and personal data ----------------------------------------------

    def load_state(self) -> StateSnapshot:
        return self._read(state.load_all)

    def active_personal_data(self) -> list[StoredPersonalRecord]:
        return self._read(personal.active)

    def find_personal_data(
        self, *, owner_keys: Collection[str] = (), pickup_code_hash: str | None = None
    ) -> list[StoredPersonalRecord]:
        return self._read(
            lambda db: personal.find_active(
                db, owner_keys=owner_keys, pickup_code_hash=pickup_code_hash
            )
        )

    def personal_record(self, ref: str) -> StoredPersonalRecord | None:
        return self._read(lambda db: personal.get(db, ref))

    def purge_personal_data(self, *, now: datetime, retention: timedelta) -> int:
        """Delete personal data of items that ended ``retention`` ago; audit the purge."""

        def purge(db: sqlite_utils.Database) -> int:
            purged = personal.purge(db, now, retention)
            if purged:
                audit.append(
                    db,
                    AuditRecord(
                        actor="system",
                        action="personal_data.purged",
                        outcome=AuditOutcome.OK,
                        details={"rows": purged, "ended_before": format_time(now - retention)},
                    ),
                    self._boot.boot_id,
                    now,
                )
            return purged

        return self._write(purge)

    # -- audit ----------------------------------------------------------------

    def chain_head(self) -> ChainHead:
        return self._read(audit.chain_head)

    def verify_audit_chain(self, anchor: ChainHead | None = None) -> ChainVerification:
        def verify(db: sqlite_utils.Database) -> ChainVerification:
            with read_transaction(db):
                return audit.verify_chain(db, anchor)

        return self._read(verify)

    def audit_entries(self, *, after_seq: int = 0, limit: int = 100) -> list[AuditEntry]:
        return self._read(lambda db: audit.entries(db, after_seq=after_seq, limit=limit))

    def search_audit(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        return self._read(
            lambda db: audit.search(
                db,
                since=since,
                until=until,
                actor=actor,
                action=action,
                limit=limit,
                newest_first=newest_first,
            )
        )

    # -- outbox ---------------------------------------------------------------

    def pending_events(self, *, after_seq: int = 0, limit: int = 100) -> list[OutboxEvent]:
        return self._read(lambda db: outbox.pending(db, after_seq=after_seq, limit=limit))

    def ack_events(self, *, boot_id: str, seq: int) -> int:
        return self._write(lambda db: outbox.ack_through(db, boot_id, seq))

    def outbox_statistics(self) -> OutboxStatistics:
        return self._read(outbox.statistics)

    # -- commands -------------------------------------------------------------

    def command_reply(self, command_id: str) -> StoredCommandReply | None:
        return self._read(lambda db: commands.lookup(db, command_id))

    def forget_expired_commands(self, *, now: datetime) -> int:
        return self._write(lambda db: commands.forget_expired(db, now))

    # -- housekeeping ---------------------------------------------------------

    def checkpoint(self) -> tuple[int, int, int]:
        return self._read(checkpoint)

    def schema_version(self) -> int:
        return self._read(schema_version)

    def _read(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        with map_sqlite_errors():
            return fn(self._db)

    def _write(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        with map_sqlite_errors(), write_transaction(self._db):
            return fn(self._db)
