"""Opening the file: pragmas, the start-up check, and error translation."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from locker_host.store import (
    ForeignDatabase,
    Store,
    StoreBusy,
    StoreClosed,
    StoreConfig,
    StoreCorrupt,
    StoreError,
    errors,
)
from locker_host.store.database import connect

from .builders import item_work, raw


def test_connection_runs_wal_with_synchronous_full(db_path: Path) -> None:
    db = connect(db_path, busy_timeout=2.5)
    try:
        pragmas = {
            name: db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    finally:
        db.close()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 2500,
    }


def test_store_leaves_the_file_in_wal_mode(store: Store, db_path: Path) -> None:
    conn = raw(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_damaged_page_is_caught_at_start_up(db_path: Path, now: datetime) -> None:
    store = Store.open(db_path, now=now)
    for n in range(4):
        store.commit(item_work(f"I{n}", filler="x" * 3000), now=now)
    store.checkpoint()  # move the pages from the WAL into the main file
    store.close()
    page_size = 4096
    with db_path.open("r+b") as f:
        f.seek(page_size * 5)
        f.write(b"\xff" * page_size)

    with pytest.raises(StoreCorrupt) as caught:
        Store.open(db_path, now=now)
    assert caught.value.code == "store_corrupt"


def test_a_file_that_is_not_a_database_is_corrupt(db_path: Path, now: datetime) -> None:
    db_path.write_bytes(b"this is not an SQLite file, just some text" * 100)
    with pytest.raises(StoreCorrupt):
        Store.open(db_path, now=now)


def test_another_applications_database_is_refused(db_path: Path, now: datetime) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    conn.close()
    with pytest.raises(ForeignDatabase):
        Store.open(db_path, now=now)


def test_foreign_application_id_is_refused(db_path: Path, now: datetime) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA application_id = 1234")
    conn.close()
    with pytest.raises(ForeignDatabase) as caught:
        Store.open(db_path, now=now)
    assert caught.value.application_id == 1234


def test_write_lock_held_elsewhere_is_store_busy(db_path: Path, now: datetime) -> None:
    store = Store.open(db_path, now=now, config=StoreConfig(busy_timeout=0.05))
    other = raw(db_path)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusy) as caught:
            store.commit(item_work("I1"), now=now)
        assert caught.value.code == "store_busy"
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.commit(item_work("I1"), now=now)  # and the store is usable once the lock is gone
    store.close()


def test_closed_store_raises_store_closed(store: Store) -> None:
    store.close()
    with pytest.raises(StoreClosed):
        store.load_state()


def test_error_codes_are_unique_snake_case() -> None:
    classes = [
        c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, StoreError)
    ]
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", code) for code in codes)
