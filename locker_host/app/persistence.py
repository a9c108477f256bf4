"""A decision as one store transaction, and the state back from the store.

``plan`` turns a new state plus the decision's audit records and events (and
the reply to a central command) into one ``UnitOfWork``: only the documents
that changed are written, personal values go to ``personal_data`` rows
(``personal.py``), rows no document needs any more start their retention
clock (``ended_items``). ``restore`` is the reverse at start-up: documents and
the active personal rows give the ``LockerState`` and the index that the next
``plan`` builds on.

Both are pure apart from minting random refs: the service commits the plan and
adopts ``Plan.saved`` only once the commit returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from locker_host.domain import AuditRecord, Event, LockerState
from locker_host.store import (
    AuditRecord as StoredAudit,
)
from locker_host.store import (
    CommandReply,
    Document,
    DocumentKey,
    OutgoingEvent,
    PersonalRecord,
    PersonalRef,
    StateChanges,
    StateSnapshot,
    UnitOfWork,
)

from .documents import (
    COMPARTMENT,
    LOCKER,
    LOCKER_ID,
    OPEN,
    compartment_document,
    compartment_from_document,
    locker_document,
    locker_from_documents,
    open_document,
    open_from_document,
)
from .errors import StoredStateInvalid
from .personal import Joiner, PersonalIndex, Splitter
from .records import audit_row, outgoing_event


@dataclass(frozen=True)
class Saved:
    """What is on disk: the state as last committed, and where its personal data lives."""

    state: LockerState | None  # None: nothing committed yet
    index: PersonalIndex


EMPTY = Saved(None, PersonalIndex())


@dataclass(frozen=True)
class Plan:
    work: UnitOfWork
    saved: Saved  # adopt once ``work`` is committed


def plan(
    saved: Saved,
    state: LockerState,
    *,
    bare_key_version: int,
    audit: Iterable[AuditRecord] = (),
    events: Iterable[Event] = (),
    app_audit: Sequence[StoredAudit] = (),
    app_events: Sequence[OutgoingEvent] = (),
    command: CommandReply | None = None,
) -> Plan:
    split = Splitter(saved.index, bare_key_version)
    puts: list[Document] = []
    documents: dict[DocumentKey, frozenset[PersonalRef]] = {}

    def put(kind: str, doc_id: str, encode: Callable[[Splitter], dict[str, Any]]) -> None:
        split.start_document()
        puts.append(Document(kind, doc_id, encode(split)))
        documents[DocumentKey(kind, doc_id)] = split.finish_document()

    old = saved.state
    for cid, compartment in state.compartments.items():
        if old is None or old.compartments.get(cid) != compartment:
            put(COMPARTMENT, cid, partial(compartment_document, compartment))
    for open_id, open_ in state.opens.items():
        if old is None or old.opens.get(open_id) != open_:
            put(OPEN, open_id, partial(open_document, open_))
    if old is None or _locker_part(old) != _locker_part(state):
        put(LOCKER, LOCKER_ID, partial(locker_document, state))
    deleted = []
    if old is not None:
        gone = sorted(old.compartments.keys() - state.compartments.keys())
        deleted += [DocumentKey(COMPARTMENT, cid) for cid in gone]
        deleted += [DocumentKey(OPEN, o) for o in sorted(old.opens.keys() - state.opens.keys())]
    index, ended = saved.index.after(documents, deleted, split)

    personal: list[PersonalRecord] = list(split.new_records)
    rows: list[StoredAudit] = []
    for record in audit:
        row, owner = audit_row(record)
        rows.append(row)
        if owner is not None:
            personal.append(owner)
    work = UnitOfWork(
        state=StateChanges(put=puts, delete=deleted),
        personal=personal,
        ended_items=ended,
        audit=[*rows, *app_audit],
        events=[*(outgoing_event(e) for e in events), *app_events],
        command=command,
    )
    return Plan(work, Saved(state, index))


def _locker_part(state: LockerState) -> tuple[object, ...]:
    return (
        state.boards,
        state.dropoffs,
        state.code_guard,
        state.next_open_seq,
        state.next_receipt_seq,
        state.alarm_acks,
    )


@dataclass(frozen=True)
class Restored:
    state: LockerState | None  # None: a new database
    saved: Saved
    missing_personal_refs: tuple[str, ...]  # refs whose rows are gone (a damaged database)


def restore(snapshot: StateSnapshot, records: Iterable[PersonalRecord]) -> Restored:
    locker = snapshot.get(LOCKER, {}).get(LOCKER_ID)
    if locker is None:
        # Documents of other kinds (the daemon's commissioning record) may be
        # saved before the service ever ran; only the state's own kinds count.
        if any(snapshot.get(kind) for kind in (COMPARTMENT, OPEN)):
            raise StoredStateInvalid("the database has state documents but no locker document")
        return Restored(None, EMPTY, ())
    join = Joiner(records)
    compartments = _decode(snapshot, COMPARTMENT, join, compartment_from_document)
    opens = _decode(snapshot, OPEN, join, open_from_document)
    join.start_document()
    try:
        state = locker_from_documents(locker, compartments, opens, join)
    except (KeyError, TypeError, ValueError) as exc:
        raise StoredStateInvalid(f"cannot read {LOCKER}/{LOCKER_ID}: {exc!r}") from exc
    join.finish_document(DocumentKey(LOCKER, LOCKER_ID))
    return Restored(state, Saved(state, join.index()), tuple(join.missing))


def _decode(
    snapshot: StateSnapshot,
    kind: str,
    join: Joiner,
    decode: Callable[[Mapping[str, Any], Joiner], Any],
) -> dict[Any, Any]:
    out = {}
    for doc_id, body in snapshot.get(kind, {}).items():
        join.start_document()
        try:
            out[doc_id] = decode(body, join)
        except (KeyError, TypeError, ValueError) as exc:
            raise StoredStateInvalid(f"cannot read {kind}/{doc_id}: {exc!r}") from exc
        join.finish_document(DocumentKey(kind, doc_id))
    return out
