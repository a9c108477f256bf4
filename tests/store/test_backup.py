"""`backup_database`: an online copy while the store is open and writing, checked, atomic."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest

from locker_host.store import (
    ChainIntact,
    Store,
    StoreCorrupt,
    StoreError,
    StoreUnavailable,
    backup_database,
)

from .builders import events_work, write_audit


def test_a_backup_taken_during_commits_is_a_consistent_prefix(
    db_path: Path, now: datetime, tmp_path: Path
) -> None:
    stop, warmed_up = threading.Event(), threading.Event()
    committed = [0]

    def writer() -> None:  # the daemon, committing while the backup runs (its own thread)
        store = Store.open(db_path, now=now)
        try:
            write_audit(store, 20, now)
            while not stop.is_set() and committed[0] < 5000:
                store.commit(events_work(1, first=committed[0]), now=now)
                committed[0] += 1
                if committed[0] == 50:
                    warmed_up.set()
        finally:
            warmed_up.set()
            store.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert warmed_up.wait(timeout=60)
        report = backup_database(db_path, tmp_path / "copy.db")
    finally:
        stop.set()
        thread.join(timeout=60)
    assert report.pages > 0 and report.size_bytes == (tmp_path / "copy.db").stat().st_size
    copy = Store.open(tmp_path / "copy.db", now=now)
    try:
        assert isinstance(copy.verify_audit_chain(), ChainIntact)
        numbers = [e.payload["n"] for e in copy.pending_events(limit=5000)]
    finally:
        copy.close()
    # Every commit before the snapshot, none torn, in order: a prefix of what was written.
    assert numbers == list(range(len(numbers))) and 50 <= len(numbers) <= committed[0]
    assert not list(tmp_path.glob(".*partial"))


def test_a_closed_store_is_backed_up_too(
    store: Store, db_path: Path, now: datetime, tmp_path: Path
) -> None:
    write_audit(store, 5, now)
    store.close()  # no -wal / -shm left: the daemon is stopped
    backup_database(db_path, tmp_path / "copy.db")
    copy = Store.open(tmp_path / "copy.db", now=now)
    try:
        assert copy.chain_head().seq >= 5
    finally:
        copy.close()


def test_a_backup_never_overwrites_and_leaves_nothing_behind_on_failure(
    store: Store, db_path: Path, tmp_path: Path
) -> None:
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"yesterday's backup")
    with pytest.raises(StoreUnavailable):
        backup_database(db_path, existing)
    assert existing.read_bytes() == b"yesterday's backup"
    with pytest.raises(StoreUnavailable):
        backup_database(tmp_path / "missing.db", tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()


def test_a_damaged_database_gives_a_store_error_and_no_backup(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    with pytest.raises(StoreError) as caught:
        backup_database(damaged, tmp_path / "copy.db")
    assert isinstance(caught.value, StoreCorrupt | StoreUnavailable)
    assert not (tmp_path / "copy.db").exists()
    assert not list(tmp_path.glob(".*partial"))
