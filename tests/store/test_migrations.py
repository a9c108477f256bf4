"""Schema migrations: from every earlier version, with data, and the refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from locker_host.store import (
    LATEST_VERSION,
    AuditOutcome,
    AuditRecord,
    ChainIntact,
    CommandId,
    CommandReply,
    Document,
    OutgoingEvent,
    PersonalRecord,
    SchemaTooNew,
    StateChanges,
    Store,
    UnitOfWork,
    audit,
    new_personal_ref,
    outbox,
    personal,
    state,
)
from locker_host.store.boots import record_boot
from locker_host.store.database import connect, write_transaction
from locker_host.store.migrations import MIGRATIONS, Migration, migrate, schema_version

from .builders import raw


def _seed_nothing(db: sqlite_utils.Database, now: datetime) -> None:
    """Version 0 is an empty file: nothing to keep."""


def _seed_v1(db: sqlite_utils.Database, now: datetime) -> None:
    """What version-1 code would have left behind: an item with its owner, audit, an event."""
    boot = record_boot(db, now)
    ref = new_personal_ref()
    with write_transaction(db):
        personal.insert(
            db, PersonalRecord(ref=ref, owner_key="ab" * 32, key_version=1, item_id="I1"), now
        )
        state.apply_changes(
            db,
            StateChanges(
                put=[
                    Document("compartment", "A07", {"size": "M", "status": "occupied"}),
                    Document("item", "I1", {"kind": "certificate", "personal_ref": ref}),
                ]
            ),
            now,
        )
        audit.append(
            db,
            AuditRecord(
                "central", "reserve", AuditOutcome.OK, "A07", {"item": "I1"}, personal_ref=ref
            ),
            boot.boot_id,
            now,
        )
        audit.append(
            db,
            AuditRecord("citizen", "pickup", AuditOutcome.DENIED, None, {"reason": "unknown_card"}),
            boot.boot_id,
            now,
        )
        outbox.append(db, OutgoingEvent("certificate.reserved", {"item": "I1"}), boot.boot_id, now)


SEEDS: dict[int, Callable[[sqlite_utils.Database, datetime], None]] = {
    0: _seed_nothing,
    1: _seed_v1,
}


def _schema(path: Path) -> set[tuple[str, str, str]]:
    conn = raw(path)
    try:
        return {
            (r["type"], r["name"], r["sql"])
            for r in conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        }
    finally:
        conn.close()


def test_versions_are_contiguous_from_one() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_every_earlier_version_has_seed_data() -> None:
    assert set(SEEDS) == set(range(LATEST_VERSION))


@pytest.mark.parametrize("from_version", range(LATEST_VERSION))
def test_upgrade_from_every_earlier_version_keeps_data(
    from_version: int, tmp_path: Path, now: datetime
) -> None:
    old_path = tmp_path / f"v{from_version}.db"
    db = connect(old_path)
    assert migrate(db, target=from_version) == tuple(range(1, from_version + 1))
    SEEDS[from_version](db, now)
    before_state = state.load_all(db) if from_version else {}
    before_head = audit.chain_head(db) if from_version else None
    db.close()

    later = now + timedelta(hours=1)
    store = Store.open(old_path, now=later)
    try:
        assert store.schema_version() == LATEST_VERSION
        assert store.load_state() == before_state
        verification = store.verify_audit_chain(anchor=before_head)
        assert isinstance(verification, ChainIntact)
        # The new schema works on the old data: the outbox and audit continue,
        # and the tables added since (command dedup) take writes.
        receipt = store.commit(
            UnitOfWork(
                audit=[AuditRecord("system", "migrated", AuditOutcome.OK)],
                events=[OutgoingEvent("locker.started")],
                command=CommandReply(CommandId("c-1"), {"ok": True}, later + timedelta(days=1)),
            ),
            now=later,
        )
        assert receipt.events[0].seq == (1 if from_version == 0 else 2)
        assert receipt.chain_head.seq == verification.rows + 1
        assert store.command_reply("c-1") is not None
        if from_version >= 1:
            assert len(store.find_personal_data(owner_keys=["ab" * 32])) == 1
    finally:
        store.close()

    fresh_path = tmp_path / "fresh.db"
    Store.open(fresh_path, now=now).close()
    assert _schema(old_path) == _schema(fresh_path)


def test_database_from_newer_code_is_refused_untouched(db_path: Path, now: datetime) -> None:
    Store.open(db_path, now=now).close()
    conn = raw(db_path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()

    with pytest.raises(SchemaTooNew) as caught:
        Store.open(db_path, now=now)
    assert (caught.value.found, caught.value.supported) == (LATEST_VERSION + 1, LATEST_VERSION)
    assert caught.value.code == "schema_too_new"
    conn = raw(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION + 1
    assert conn.execute("SELECT count(*) FROM boots").fetchone()[0] == 1
    conn.close()


def test_failing_migration_leaves_the_previous_version(db_path: Path) -> None:
    broken = Migration(
        version=LATEST_VERSION + 1,
        name="breaks half-way",
        statements=("CREATE TABLE added (x INTEGER)", "CREATE TABLE boots (again INTEGER)"),
    )
    db = connect(db_path)
    migrate(db)
    with pytest.raises(Exception, match="already exists"):
        migrate(db, target=broken.version, migrations=(*MIGRATIONS, broken))
    assert schema_version(db) == LATEST_VERSION
    assert "added" not in db.table_names()
    db.close()


def test_migrating_twice_is_a_no_op(db_path: Path) -> None:
    db = connect(db_path)
    assert migrate(db) == tuple(range(1, LATEST_VERSION + 1))
    assert migrate(db) == ()
    db.close()
