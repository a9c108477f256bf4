"""One transaction for state, personal data, audit, events and the command reply."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from locker_host.store import (
    AuditOutcome,
    AuditRecord,
    CommandId,
    CommandReply,
    ConstraintViolated,
    Document,
    DocumentKey,
    JsonObject,
    OutgoingEvent,
    PersonalDataInDocument,
    PersonalRecord,
    StateChanges,
    Store,
    UnitOfWork,
    new_personal_ref,
)

from .builders import dump


def _full_work(now: datetime, command_id: str = "cmd-1") -> UnitOfWork:
    ref = new_personal_ref()
    return UnitOfWork(
        state=StateChanges(
            put=[
                Document("compartment", "A07", {"size": "M", "status": "reserved"}),
                Document(
                    "item",
                    "I1",
                    {
                        "kind": "certificate",
                        "personal_ref": ref,
                        "title": "营业执照",
                        "weight": 0.25,
                    },
                ),
            ]
        ),
        personal=[PersonalRecord(ref=ref, owner_key="0a" * 32, key_version=2, item_id="I1")],
        audit=[
            AuditRecord(
                "central", "reserve", AuditOutcome.OK, "A07", {"item": "I1"}, personal_ref=ref
            )
        ],
        events=[OutgoingEvent("certificate.reserved", {"item": "I1", "compartment": "A07"})],
        command=CommandReply(
            CommandId(command_id), {"compartment": "A07"}, keep_until=now + timedelta(days=1)
        ),
    )


def test_commit_writes_everything_and_reports_it(store: Store, now: datetime) -> None:
    receipt = store.commit(_full_work(now), now=now)

    state = store.load_state()
    assert state["compartment"]["A07"] == {"size": "M", "status": "reserved"}
    assert state["item"]["I1"]["title"] == "营业执照"
    assert state["item"]["I1"]["weight"] == 0.25
    assert len(store.active_personal_data()) == 1
    assert [e.action for e in store.audit_entries()] == ["reserve"]
    assert [e.seq for e in store.pending_events()] == [e.seq for e in receipt.events] == [1]
    assert receipt.chain_head == store.chain_head()
    reply = store.command_reply("cmd-1")
    assert reply is not None
    assert reply.reply == {"compartment": "A07"}


@pytest.mark.parametrize("failure", ["duplicate command", "personal data in audit details"])
def test_failure_inside_the_unit_of_work_writes_nothing(
    store: Store, db_path: Path, now: datetime, failure: str
) -> None:
    store.commit(_full_work(now, command_id="cmd-0"), now=now)
    before = dump(db_path)

    work = _full_work(now, command_id="cmd-0" if failure == "duplicate command" else "cmd-new")
    if failure == "personal data in audit details":
        work = UnitOfWork(
            state=work.state,
            personal=work.personal,
            events=work.events,
            audit=[
                *work.audit,
                AuditRecord("x", "y", AuditOutcome.OK, details={"id_number": "masked"}),
            ],
        )
    expected = ConstraintViolated if failure == "duplicate command" else PersonalDataInDocument
    with pytest.raises(expected):
        store.commit(work, now=now + timedelta(minutes=1))

    assert dump(db_path) == before
    # and the store carries on: the next unit of work commits normally
    receipt = store.commit(UnitOfWork(events=[OutgoingEvent("door.closed")]), now=now)
    assert receipt.events[0].seq == 2


def test_documents_are_updated_and_deleted(store: Store, now: datetime) -> None:
    store.commit(
        UnitOfWork(
            state=StateChanges(
                put=[
                    Document("timer", "T1", {"deadline": "2021-06-02T00:00:00Z"}),
                    Document("open", "O1", {"purpose": "pickup"}),
                ]
            )
        ),
        now=now,
    )
    store.commit(
        UnitOfWork(
            state=StateChanges(
                put=[Document("open", "O1", {"purpose": "pickup", "outcome": "opened"})],
                delete=[DocumentKey("timer", "T1")],
            )
        ),
        now=now,
    )
    assert store.load_state() == {"open": {"O1": {"purpose": "pickup", "outcome": "opened"}}}


def test_read_only_views_are_stored_as_plain_json(store: Store, now: datetime) -> None:
    wiring: JsonObject = MappingProxyType({"channels": (1, 2)})
    body: JsonObject = MappingProxyType({"wiring": wiring, "note": "门"})
    store.commit(
        UnitOfWork(state=StateChanges(put=[Document("compartment", "A01", body)])), now=now
    )
    assert store.load_state() == {
        "compartment": {"A01": {"wiring": {"channels": [1, 2]}, "note": "门"}}
    }


def test_a_document_both_put_and_deleted_is_a_caller_bug(store: Store, now: datetime) -> None:
    changes = StateChanges(put=[Document("open", "O1", {})], delete=[DocumentKey("open", "O1")])
    with pytest.raises(ValueError, match="both put and deleted"):
        store.commit(UnitOfWork(state=changes), now=now)


def test_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.commit(UnitOfWork(events=[OutgoingEvent("x")]), now=datetime(2021, 6, 1))


def test_expired_command_replies_are_forgotten(store: Store, now: datetime) -> None:
    store.commit(_full_work(now, command_id="cmd-1"), now=now)
    store.commit(
        UnitOfWork(
            command=CommandReply(
                CommandId("cmd-2"), {"ok": True}, keep_until=now + timedelta(days=3)
            )
        ),
        now=now,
    )
    assert store.forget_expired_commands(now=now + timedelta(days=1)) == 0
    assert store.forget_expired_commands(now=now + timedelta(days=2)) == 1
    assert store.command_reply("cmd-1") is None
    assert store.command_reply("cmd-2") is not None
