"""map_sqlite_errors against real SQLite failures, not hand-made exceptions.

Busy, corrupt and closed are exercised through the Store in test_database.py.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from locker_host.store import (
    ConstraintViolated,
    Store,
    StoreFull,
    StoreUnavailable,
)
from locker_host.store.errors import map_sqlite_errors


def _conn(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=0.01)
    conn.execute("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)")
    return conn


def test_disk_full(tmp_path: Path) -> None:
    conn = _conn(tmp_path / "full.db")
    page_count = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {page_count}")  # as if the disk were full
    with pytest.raises(StoreFull) as caught, map_sqlite_errors():
        conn.execute("INSERT INTO t (v) VALUES (?)", ["x" * 100_000])
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    conn.close()


def test_cannot_open(tmp_path: Path, now: datetime) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        Store.open(tmp_path / "no such directory" / "locker.db", now=now)
    assert caught.value.code == "store_unavailable"


def test_constraint(tmp_path: Path) -> None:
    conn = _conn(tmp_path / "c.db")
    conn.execute("INSERT INTO t (k, v) VALUES (1, 'a')")
    with pytest.raises(ConstraintViolated), map_sqlite_errors():
        conn.execute("INSERT INTO t (k, v) VALUES (1, 'b')")
    conn.close()
