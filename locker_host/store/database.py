"""Opening the database file: pragmas, the start-up check, transactions.

Durability settings (shared/notes/reliability-security.md 4.1):

- ``journal_mode=WAL`` (persistent in the file): readers never block the one
  writer, and a commit appends to the WAL instead of rewriting pages.
- ``synchronous=FULL`` (per connection): in WAL mode the WAL is fsynced at
  every commit, so a committed transaction survives power loss, not only a
  process crash. NORMAL would be faster and "might roll back following a
  power loss" (sqlite.org/pragma.html#pragma_synchronous).
- ``foreign_keys=ON`` (per connection; SQLite's default is off).
- ``busy_timeout``: another connection (an export, a technician's sqlite3
  shell) may hold the write lock for a moment.
- ``PRAGMA quick_check`` at start-up, because cheap flash corrupts on power loss
  (sqlite.org/howtocorrupt.html); a failure is :class:`StoreCorrupt`, and the
  daemon must not carry on writing into a damaged file.

The sqlite3 connection runs with ``isolation_level=None``: the driver opens no
implicit transactions, every transaction here is an explicit
``BEGIN IMMEDIATE`` (take the write lock up front, so a transaction never fails
half-way with SQLITE_BUSY on its first write).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

from .errors import StoreCorrupt, StoreUnavailable

DEFAULT_BUSY_TIMEOUT = 5.0


def connect(
    path: str | os.PathLike[str], *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> sqlite_utils.Database:
    """Open (creating if needed) the database file with the durability pragmas set."""
    # timeout= is sqlite3_busy_timeout(), i.e. PRAGMA busy_timeout.
    conn = sqlite3.connect(os.fspath(path), isolation_level=None, timeout=busy_timeout)
    try:
        db = sqlite_utils.Database(conn, execute_plugins=False, recursive_triggers=False)
        db.enable_wal()
        if db.journal_mode != "wal":
            # e.g. a file system without shared memory support for the WAL index
            raise StoreUnavailable(f"cannot switch {path} to WAL (journal_mode={db.journal_mode})")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        quick_check(db)
    except BaseException:
        conn.close()
        raise
    return db


def quick_check(db: sqlite_utils.Database) -> None:
    rows = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        raise StoreCorrupt("PRAGMA quick_check failed", tuple(str(r) for r in rows))


def checkpoint(db: sqlite_utils.Database) -> tuple[int, int, int]:
    """Copy the WAL back into the database file and truncate it.

    Returns SQLite's (busy, wal_pages, checkpointed_pages). Run on a schedule
    so the WAL cannot grow without bound while a reader holds it open.
    """
    busy, log, checkpointed = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return int(busy), int(log), int(checkpointed)


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    try:
        db.execute("COMMIT")
    except BaseException:
        # COMMIT can fail (SQLITE_FULL, an I/O error) and leave the
        # transaction open; never let the next statement join it.
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise


@contextmanager
def read_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A consistent snapshot for reads that take more than one statement."""
    db.execute("BEGIN DEFERRED")
    try:
        yield db
    finally:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
