"""Verifying the audit chain of a database file from outside the daemon.

``lockerd audit verify`` opens the file read-only (``mode=ro``: it never
writes, never migrates, and works while the daemon runs: in WAL mode it is one
more reader) and walks the chain in one read transaction, a consistent
snapshot (:func:`.audit.verify_chain`). A file that is not a locker database
is refused rather than reported as an empty, intact chain.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import sqlite_utils

from .audit import ChainHead, ChainVerification, verify_chain
from .database import read_transaction
from .errors import ForeignDatabase, StoreUnavailable, map_sqlite_errors
from .migrations import APPLICATION_ID


def verify_audit_file(path: Path, anchor: ChainHead | None = None) -> ChainVerification:
    if not path.is_file():
        raise StoreUnavailable(f"no database at {path}")
    with map_sqlite_errors():
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        with contextlib.closing(conn):
            db = sqlite_utils.Database(conn)
            application_id = int(db.execute("PRAGMA application_id").fetchone()[0])
            if application_id != APPLICATION_ID or "audit_log" not in db.table_names():
                raise ForeignDatabase(application_id)
            with read_transaction(db):
                return verify_chain(db, anchor)
