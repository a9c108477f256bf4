"""The audit chain: verified when intact, and each kind of tampering named."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from locker_host.store import (
    GENESIS,
    AuditOutcome,
    AuditRecord,
    ChainBroken,
    ChainHead,
    ChainIntact,
    ChainProblem,
    PersonalDataInDocument,
    PersonalRecord,
    Store,
    UnitOfWork,
    UnknownPersonalRef,
    new_personal_ref,
)

from .builders import documented_hash, drop_audit_triggers, raw, write_audit

ROWS = 8


@pytest.fixture
def chain(store: Store, now: datetime) -> Store:
    write_audit(store, ROWS, now)
    return store


@pytest.fixture
def shell(db_path: Path, chain: Store) -> Iterator[sqlite3.Connection]:
    conn = raw(db_path)
    yield conn
    conn.close()


def test_empty_chain_is_intact_at_genesis(store: Store) -> None:
    assert store.chain_head() == GENESIS
    assert store.verify_audit_chain() == ChainIntact(rows=0, head=GENESIS)


def test_intact_chain_verifies_and_its_head_is_the_last_row(chain: Store) -> None:
    entries = chain.audit_entries(limit=100)
    assert [e.seq for e in entries] == list(range(1, ROWS + 1))
    head = ChainHead(entries[-1].seq, entries[-1].hash)
    assert chain.chain_head() == head
    assert chain.verify_audit_chain(anchor=head) == ChainIntact(rows=ROWS, head=head)


def test_rows_hash_as_documented(chain: Store, shell: sqlite3.Connection) -> None:
    rows = shell.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
    assert rows[0]["prev_hash"] == "0" * 64
    for previous, row in itertools.pairwise(rows):
        assert row["prev_hash"] == previous["hash"]
    assert all(row["hash"] == documented_hash(row) for row in rows)


def test_denied_and_failed_attempts_are_recorded(chain: Store) -> None:
    outcomes = {e.outcome for e in chain.audit_entries()}
    assert outcomes == {"ok", "denied", "failed"}


def test_triggers_refuse_update_and_delete(shell: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        shell.execute("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        shell.execute("DELETE FROM audit_log WHERE seq = 2")


def test_changed_field_is_named(chain: Store, shell: sqlite3.Connection) -> None:
    drop_audit_triggers(shell)
    shell.execute("""UPDATE audit_log SET outcome = 'ok' WHERE seq = 5""")  # was 'failed'
    assert chain.verify_audit_chain() == ChainBroken(5, ChainProblem.HASH_MISMATCH, 4)


def test_changed_details_is_named(chain: Store, shell: sqlite3.Connection) -> None:
    drop_audit_triggers(shell)
    shell.execute("""UPDATE audit_log SET details = '{"n":3,"purpose":"pickup"}' WHERE seq = 4""")
    assert chain.verify_audit_chain() == ChainBroken(4, ChainProblem.HASH_MISMATCH, 3)


def test_changed_row_with_recomputed_hash_breaks_the_next_link(
    chain: Store, shell: sqlite3.Connection
) -> None:
    drop_audit_triggers(shell)
    shell.execute("UPDATE audit_log SET actor = 'staff:S999' WHERE seq = 5")
    row = shell.execute("SELECT * FROM audit_log WHERE seq = 5").fetchone()
    shell.execute("UPDATE audit_log SET hash = ? WHERE seq = 5", [documented_hash(row)])
    assert chain.verify_audit_chain() == ChainBroken(6, ChainProblem.PREV_HASH_MISMATCH, 5)


def test_deleted_row_is_named(chain: Store, shell: sqlite3.Connection) -> None:
    drop_audit_triggers(shell)
    shell.execute("DELETE FROM audit_log WHERE seq = 4")
    assert chain.verify_audit_chain() == ChainBroken(4, ChainProblem.SEQ_GAP, 3)


def test_deleted_first_row_is_named(chain: Store, shell: sqlite3.Connection) -> None:
    drop_audit_triggers(shell)
    shell.execute("DELETE FROM audit_log WHERE seq = 1")
    assert chain.verify_audit_chain() == ChainBroken(1, ChainProblem.SEQ_GAP, 0)


def test_reordered_rows_are_named(chain: Store, shell: sqlite3.Connection) -> None:
    drop_audit_triggers(shell)
    shell.execute("UPDATE audit_log SET seq = 1000 WHERE seq = 3")
    shell.execute("UPDATE audit_log SET seq = 3 WHERE seq = 4")
    shell.execute("UPDATE audit_log SET seq = 4 WHERE seq = 1000")
    assert chain.verify_audit_chain() == ChainBroken(3, ChainProblem.PREV_HASH_MISMATCH, 2)


def test_rewritten_tail_is_caught_only_by_the_published_head(
    chain: Store, shell: sqlite3.Connection
) -> None:
    published = chain.chain_head()
    drop_audit_triggers(shell)
    # A careful forger rewrites row 6 and re-chains everything after it.
    shell.execute("UPDATE audit_log SET outcome = 'ok' WHERE seq = 6")
    previous_hash = shell.execute("SELECT hash FROM audit_log WHERE seq = 5").fetchone()[0]
    for seq in range(6, ROWS + 1):
        shell.execute("UPDATE audit_log SET prev_hash = ? WHERE seq = ?", [previous_hash, seq])
        row = shell.execute("SELECT * FROM audit_log WHERE seq = ?", [seq]).fetchone()
        previous_hash = documented_hash(row)
        shell.execute("UPDATE audit_log SET hash = ? WHERE seq = ?", [previous_hash, seq])

    assert isinstance(chain.verify_audit_chain(), ChainIntact)
    assert chain.verify_audit_chain(anchor=published) == ChainBroken(
        ROWS, ChainProblem.ANCHOR_MISMATCH, ROWS - 1
    )


def test_truncated_tail_is_caught_by_the_published_head(
    chain: Store, shell: sqlite3.Connection
) -> None:
    published = chain.chain_head()
    drop_audit_triggers(shell)
    shell.execute("DELETE FROM audit_log WHERE seq > 6")
    assert isinstance(chain.verify_audit_chain(), ChainIntact)
    assert chain.verify_audit_chain(anchor=published) == ChainBroken(
        ROWS, ChainProblem.ANCHOR_MISSING, 6
    )


def test_altered_personal_data_is_named(store: Store, db_path: Path, now: datetime) -> None:
    ref = new_personal_ref()
    store.commit(
        UnitOfWork(
            personal=[PersonalRecord(ref=ref, owner_key="aa" * 32, key_version=1)],
            audit=[AuditRecord("citizen", "pickup", AuditOutcome.DENIED, personal_ref=ref)],
        ),
        now=now,
    )
    shell = raw(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            shell.execute("UPDATE personal_data SET owner_key = ? WHERE ref = ?", ["bb" * 32, ref])
        shell.execute("DROP TRIGGER personal_data_immutable")
        shell.execute("UPDATE personal_data SET owner_key = ? WHERE ref = ?", ["bb" * 32, ref])
    finally:
        shell.close()
    assert store.verify_audit_chain() == ChainBroken(1, ChainProblem.PERSONAL_DATA_MISMATCH, 0)


def test_personal_data_in_details_is_refused(store: Store, now: datetime) -> None:
    record = AuditRecord(
        "citizen", "pickup", AuditOutcome.DENIED, details={"card": {"owner_key": "aa" * 32}}
    )
    with pytest.raises(PersonalDataInDocument) as caught:
        store.commit(UnitOfWork(audit=[record]), now=now)
    assert caught.value.path == "$.card.owner_key"
    assert store.chain_head() == GENESIS


def test_unknown_personal_ref_is_refused(store: Store, now: datetime) -> None:
    record = AuditRecord("citizen", "pickup", AuditOutcome.DENIED, personal_ref=new_personal_ref())
    with pytest.raises(UnknownPersonalRef):
        store.commit(UnitOfWork(audit=[record]), now=now)


# -- search (the pages' audit view) ---------------------------------------------------


def _rows(store: Store, now: datetime) -> None:
    rows = [
        ("staff:S001", "staff_open", 0),
        ("staff:S002", "staff_open", 60),
        ("staffer", "staff_open", 120),  # not a "staff" actor: no ':' after the prefix
        ("central:http:ops", "remote_open", 180),
        ("citizen", "pickup", 240),
    ]
    for actor, action, offset in rows:
        record = AuditRecord(actor, action, AuditOutcome.OK)
        store.commit(UnitOfWork(audit=[record]), now=now + timedelta(seconds=offset))


def test_search_filters_by_time_actor_prefix_and_action(store: Store, now: datetime) -> None:
    _rows(store, now)

    def actors(**query: object) -> list[str]:
        return [e.actor for e in store.search_audit(**query)]  # type: ignore[arg-type]

    assert actors(actor="staff") == ["staff:S001", "staff:S002"]
    assert actors(actor="staff:S002") == ["staff:S002"]
    assert actors(actor="central") == ["central:http:ops"]
    assert actors(action="staff_open") == ["staff:S001", "staff:S002", "staffer"]
    window = {"since": now + timedelta(seconds=60), "until": now + timedelta(seconds=180)}
    assert actors(**window) == ["staff:S002", "staffer"]
    assert actors(limit=2, newest_first=True) == ["citizen", "central:http:ops"]
    assert actors(actor="%") == []  # no LIKE wildcards
