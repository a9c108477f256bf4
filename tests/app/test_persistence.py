"""Decision -> UnitOfWork -> SQLite -> LockerState: the state comes back exactly,
without a personal value in any document, and personal rows live exactly as long
as a document refers to them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from locker_host.app import Saved, plan, restore
from locker_host.app.persistence import EMPTY
from locker_host.domain import LockerState, initial_state
from locker_host.domain.state import AlarmAck
from locker_host.store import (
    PersonalRecord,
    Store,
    StoreError,
    UnitOfWork,
    audit,
)
from locker_host.store.codec import canonical_json, reject_personal_fields
from tests.domain.helpers import ALICE_ID, BOB_ID, CAROL_ID, EXAMPLES, PROPERTY, config
from tests.domain.test_serde import values_of

from .harness import Locker

NOW = datetime(2023, 11, 14, 22, 20, tzinfo=UTC)


async def test_the_state_round_trips_through_a_real_sqlite_file(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    # Something of everything: items of both kinds, a shared compartment, codes,
    # opens under way (one by a citizen), a drop-off expectation, a code-guard entry.
    dropped = ((await locker.kiosk.dropoff_by_card(ALICE_ID, "tax", "S")).to_json())["opens"][0]
    await locker.use(dropped["compartment"], item_after=True)
    first = await locker.reserve("APP-1", BOB_ID, pickup_code="48151623")
    shared = await locker.reserve("APP-2", BOB_ID, pickup_code="48151623")
    assert first == shared
    await locker.load(first)
    await locker.reserve("APP-3", CAROL_ID)
    await locker.ok(
        "expect_dropoff",
        application="APP-4",
        department="tax",
        size="S",
        valid_until="2031-01-01T00:00:00Z",
    )
    assert not ((await locker.kiosk.pickup_by_typed_id(CAROL_ID, "00000000")).to_json())["ok"]
    assert ((await locker.kiosk.pickup_by_card(BOB_ID)).to_json())["ok"]  # an open under way
    assert ((await locker.kiosk.staff_card("card-tax", "load")).to_json())["ok"]  # and a staff one
    state = locker.state
    assert state.opens and state.dropoffs and state.code_guard.owner_failures
    await locker.service.aclose()

    store = Store.open(db_path, now=NOW)
    try:
        active = [row.record for row in store.active_personal_data()]
        restored = restore(store.load_state(), active)
    finally:
        store.close()
    assert restored.state == state
    assert restored.missing_personal_refs == ()
    # Saving the same state again writes nothing: the personal rows are found, not copied.
    again = plan(restored.saved, state, bare_key_version=2)
    work = again.work
    assert not (work.state or work.personal or work.ended_items or work.audit or work.events)
    # Every live row is referenced by a document, every reference has a live row.
    referenced = set().union(*restored.saved.index.doc_refs.values())
    assert referenced == {r.ref for r in active}


@dataclass
class FakeDisk:
    """What the store does with a UnitOfWork, as far as documents and personal rows go."""

    documents: dict[tuple[str, str], Any] = field(default_factory=dict)
    rows: dict[str, PersonalRecord] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)

    def commit(self, work: UnitOfWork) -> None:
        for record in work.personal:
            self.rows[record.ref] = record
            if record.item_id is None:
                self.ended.add(record.ref)  # a row without an item ends when written
        for document in work.state.put:
            reject_personal_fields(document.body, document.kind)
            self.documents[document.kind, document.id] = json.loads(canonical_json(document.body))
        for key in work.state.delete:
            del self.documents[key.kind, key.id]
        for item_id in work.ended_items:
            self.ended |= {r.ref for r in self.rows.values() if r.item_id == item_id}

    def restore(self) -> tuple[LockerState | None, Saved]:
        snapshot: dict[str, dict[str, Any]] = {}
        for (kind, doc_id), body in self.documents.items():
            snapshot.setdefault(kind, {})[doc_id] = body
        active = [r for ref, r in self.rows.items() if ref not in self.ended]
        restored = restore(snapshot, active)
        assert restored.missing_personal_refs == ()
        return restored.state, restored.saved

    def live_refs(self) -> set[str]:
        return set(self.rows) - self.ended


@settings(PROPERTY, max_examples=min(EXAMPLES, 40))  # two whole lockers per example
@given(values_of(LockerState), values_of(LockerState))
def test_any_state_round_trips_and_rows_live_as_long_as_they_are_referenced(
    first: LockerState, second: LockerState
) -> None:
    disk = FakeDisk()
    saved = EMPTY
    for state in (first, second, first):
        planned = plan(saved, state, bare_key_version=1)
        disk.commit(planned.work)
        saved = planned.saved
        loaded, loaded_saved = disk.restore()
        assert loaded == state
        referenced = set().union(*loaded_saved.index.doc_refs.values())
        assert referenced == set().union(*saved.index.doc_refs.values()) == disk.live_refs()


def test_an_alarm_acknowledgement_alone_is_saved() -> None:
    """Regression: the locker document was rewritten only when its other fields changed."""
    disk = FakeDisk()
    state = initial_state(config())
    planned = plan(EMPTY, state, bare_key_version=1)
    disk.commit(planned.work)
    acked = replace(state, alarm_acks={"door_forced@A01": AlarmAck("http:ops", 1.0)})
    planned = plan(planned.saved, acked, bare_key_version=1)
    disk.commit(planned.work)
    loaded, _ = disk.restore()
    assert loaded == acked


async def test_a_failed_commit_changes_nothing_and_the_command_can_come_again(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locker = await Locker.start(db_path)
    state, counts = locker.state, await locker.counts()

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("disk I/O error")

    with monkeypatch.context() as patch:  # the disk fails in the middle of the transaction
        patch.setattr(audit, "append", failing)
        reply = await locker.central("open", command_id="c-42", compartment="B01", reason="x")
    assert reply["error"]["code"] == "store_error"
    assert locker.state == state and await locker.counts() == counts
    retried = await locker.central("open", command_id="c-42", compartment="B01", reason="x")
    assert retried["ok"] and locker.driver.pulsed() == ["B01"]
    await locker.close()
