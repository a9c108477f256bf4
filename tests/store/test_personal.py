"""Personal data: kept apart, found by key, purged after retention, chain intact."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from locker_host.store import (
    AuditOutcome,
    AuditRecord,
    ChainIntact,
    ConstraintViolated,
    Document,
    PersonalDataInDocument,
    PersonalRecord,
    StateChanges,
    Store,
    UnitOfWork,
    hash_pickup_code,
    new_personal_ref,
)

from .builders import raw

RETENTION = timedelta(days=30)
SECRET = b"owner-key-secret-from-a-file-outside-the-database"


def _reserve(
    store: Store, item_id: str, owner_key: str, now: datetime, pickup_code: str | None = None
) -> str:
    ref = new_personal_ref()
    store.commit(
        UnitOfWork(
            state=StateChanges(put=[Document("item", item_id, {"personal_ref": ref})]),
            personal=[
                PersonalRecord(
                    ref=ref,
                    owner_key=owner_key,
                    key_version=1,
                    item_id=item_id,
                    pickup_code_hash=None
                    if pickup_code is None
                    else hash_pickup_code(SECRET, pickup_code),
                )
            ],
            audit=[
                AuditRecord(
                    "central",
                    "reserve",
                    AuditOutcome.OK,
                    "A01",
                    {"item": item_id},
                    personal_ref=ref,
                )
            ],
        ),
        now=now,
    )
    return ref


def test_purge_deletes_only_rows_past_retention_and_keeps_the_chain(
    store: Store, db_path: Path, now: datetime
) -> None:
    def day(n: int) -> datetime:
        return now + timedelta(days=n)

    old = _reserve(store, "I-old", "01" * 32, day(0))
    recent = _reserve(store, "I-recent", "02" * 32, day(0))
    active = _reserve(store, "I-active", "03" * 32, day(0))
    refused_swipe = new_personal_ref()  # no item: kept only to investigate the denial
    store.commit(
        UnitOfWork(
            personal=[PersonalRecord(ref=refused_swipe, owner_key="04" * 32, key_version=1)],
            audit=[
                AuditRecord(
                    "citizen",
                    "pickup",
                    AuditOutcome.DENIED,
                    details={"reason": "none"},
                    personal_ref=refused_swipe,
                )
            ],
        ),
        now=day(5),
    )
    store.commit(UnitOfWork(ended_items=["I-old"]), now=day(1))
    store.commit(UnitOfWork(ended_items=["I-recent"]), now=day(10))

    def purge(at: int) -> int:
        return store.purge_personal_data(now=day(at), retention=RETENTION)

    def present() -> set[str]:
        refs = {old: "old", recent: "recent", active: "active", refused_swipe: "refused"}
        return {name for ref, name in refs.items() if store.personal_record(ref) is not None}

    assert purge(30) == 0
    assert purge(31) == 1
    assert present() == {"recent", "active", "refused"}
    assert purge(35) == 1
    assert present() == {"recent", "active"}
    assert purge(40) == 1
    assert purge(400) == 0
    assert present() == {"active"}

    assert isinstance(store.verify_audit_chain(), ChainIntact)
    purges = [e for e in store.audit_entries() if e.action == "personal_data.purged"]
    assert [e.details["rows"] for e in purges] == [1, 1, 1]
    # The audit rows still name the ref; nothing left in the file leads to the owner.
    conn = raw(db_path)
    try:
        assert (
            conn.execute("SELECT count(*) FROM audit_log WHERE personal_ref = ?", [old]).fetchone()[
                0
            ]
            == 1
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM personal_data WHERE owner_key = ?", ["01" * 32]
            ).fetchone()[0]
            == 0
        )
    finally:
        conn.close()


def test_active_items_are_found_by_any_key_version_or_pickup_code(
    store: Store, now: datetime
) -> None:
    first = _reserve(store, "I1", "0a" * 32, now, pickup_code="482913")
    second = _reserve(store, "I2", "0a" * 32, now)
    _reserve(store, "I3", "0b" * 32, now)
    store.commit(UnitOfWork(ended_items=["I2"]), now=now)

    found = store.find_personal_data(owner_keys=["0a" * 32, "ff" * 32])
    assert [r.record.ref for r in found] == [first]
    by_code = store.find_personal_data(pickup_code_hash=hash_pickup_code(SECRET, " 482913 "))
    assert [r.record.ref for r in by_code] == [first]
    assert store.find_personal_data() == []
    assert {r.record.item_id for r in store.active_personal_data()} == {"I1", "I3"}
    ended = store.personal_record(second)
    assert ended is not None
    assert ended.ended_at == now


def test_pickup_code_hash_is_keyed() -> None:
    assert hash_pickup_code(SECRET, "482913") != hash_pickup_code(b"another secret", "482913")
    assert hash_pickup_code(SECRET, "482913") != hash_pickup_code(SECRET, "482914")


def test_state_documents_may_not_hold_personal_data(store: Store, now: datetime) -> None:
    work = UnitOfWork(
        state=StateChanges(
            put=[
                Document("item", "I1", {"holders": [{"owner_key": "0a" * 32}]}),
            ]
        )
    )
    with pytest.raises(PersonalDataInDocument) as caught:
        store.commit(work, now=now)
    assert caught.value.path == "$.holders[0].owner_key"
    assert store.load_state() == {}


def test_personal_record_needs_a_key_or_a_code() -> None:
    with pytest.raises(ValueError, match="owner_key or a pickup_code_hash"):
        PersonalRecord(ref=new_personal_ref())
    with pytest.raises(ValueError, match="go together"):
        PersonalRecord(ref=new_personal_ref(), owner_key="0a" * 32)


def test_a_ref_is_written_once(store: Store, now: datetime) -> None:
    record = PersonalRecord(ref=new_personal_ref(), owner_key="0a" * 32, key_version=1)
    store.commit(UnitOfWork(personal=[record]), now=now)
    with pytest.raises(ConstraintViolated):
        store.commit(UnitOfWork(personal=[record]), now=now)
