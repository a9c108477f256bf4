"""The reference central system's store on a real PostgreSQL: idempotent by event_id, the
per-locker prefix shared by every consumer process, unknown lockers and conflicts refused;
a consumer process's memory of what is stored, which spares duplicates a transaction.

Runs in the default suite (PostgreSQL starts in about a second); the fleet with its
broker cluster is test_fleet.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from central.consumer import Acks, Consumer, Remembered
from central.store import EventOutcome, InvalidEvent, Store, Stored, parse_event

from .postgres import Postgres, bin_dir

pytestmark = pytest.mark.skipif(bin_dir() is None, reason="postgresql is not installed")


@pytest.fixture(scope="module")
def database() -> Iterator[Postgres]:
    postgres = Postgres()
    try:
        postgres.start()
        yield postgres
    finally:
        postgres.remove()


@pytest.fixture
def stores(database: Postgres) -> Iterator[tuple[Store, Store]]:
    """Two consumer processes' stores on one fresh schema; lockers hall/L1 and hall/L2."""
    admin = Store(database.dsn, "admin")
    admin.conn.execute("DROP TABLE IF EXISTS events, lockers")
    admin.conn.commit()
    admin.create_schema()
    admin.register("hall", "L1")
    admin.register("hall", "L2")
    admin.close()
    one, two = Store(database.dsn, "c1"), Store(database.dsn, "c2")
    yield one, two
    one.close()
    two.close()


def event(seq: int, locker: str = "L1", boot_id: str = "b1", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "site": "hall",
        "locker": locker,
        "boot_id": boot_id,
        "seq": seq,
        "event_id": str(uuid.uuid4()),
        "type": "compartment.out_of_service",
        "created_at": "2026-12-05T12:00:00+00:00",
        "payload": {"compartment": "A01"},
    }
    base.update(fields)
    return base


def rows(store: Store, locker: str = "L1") -> list[tuple[int, str]]:
    return [
        (int(seq), str(by))
        for seq, by in store.conn.execute(
            "SELECT seq, stored_by FROM events WHERE locker = %s ORDER BY seq", (locker,)
        ).fetchall()
    ]


def test_the_prefix_is_acked_only_when_contiguous_whoever_stored_each_event(
    stores: tuple[Store, Store],
) -> None:
    one, two = stores
    first, second, third = event(1), event(2, boot_id="b2"), event(3, boot_id="b2")
    assert one.store_event(first).acked_seq == 1
    # 3 before 2, on the other process: stored, but the prefix stays at 1.
    out_of_order = two.store_event(third)
    assert (out_of_order.outcome, out_of_order.acked_seq) == (EventOutcome.STORED, 1)
    filled = one.store_event(second)
    assert (filled.acked_seq, filled.acked_boot_id) == (3, "b2")  # the boot_id of seq 3
    assert rows(one) == [(1, "c1"), (2, "c1"), (3, "c2")]


def test_a_redelivery_stores_nothing_and_repeats_the_prefix(stores: tuple[Store, Store]) -> None:
    one, two = stores
    original = event(1)
    one.store_event(original)
    again = two.store_event(dict(original))
    assert (again.outcome, again.acked_seq, again.acked_boot_id) == (
        EventOutcome.DUPLICATE,
        1,
        "b1",
    )
    assert rows(one) == [(1, "c1")]


def test_another_event_id_for_a_stored_seq_is_refused(stores: tuple[Store, Store]) -> None:
    one, _ = stores
    one.store_event(event(1))
    clash = one.store_event(event(1))
    assert clash.outcome is EventOutcome.CONFLICT
    assert "another event_id" in clash.detail
    assert rows(one) == [(1, "c1")]


def test_an_unknown_locker_stores_nothing(stores: tuple[Store, Store]) -> None:
    one, _ = stores
    refused = one.store_event(event(1, locker="L9"))
    assert refused.outcome is EventOutcome.UNKNOWN_LOCKER
    assert one.conn.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_lockers_have_their_own_prefix(stores: tuple[Store, Store]) -> None:
    one, two = stores
    one.store_event(event(1, locker="L1"))
    assert two.store_event(event(2, locker="L2")).acked_seq == 0  # L2 still waits for 1
    assert two.store_event(event(1, locker="L2")).acked_seq == 2


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"\xff", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"seq": 1}', "missing"),
        (
            b'{"site":"s","locker":"l","boot_id":"b","seq":0,"event_id":"e","type":"t",'
            b'"created_at":"2026-12-05T12:00:00+00:00","payload":{}}',
            "seq must be a positive integer",
        ),
        (
            b'{"site":"s","locker":"l","boot_id":"b","seq":1,"event_id":"e","type":"t",'
            b'"created_at":"yesterday","payload":{}}',
            "created_at",
        ),
    ],
)
def test_what_is_not_an_event_is_named(body: bytes, problem: str) -> None:
    with pytest.raises(InvalidEvent, match=problem):
        parse_event(body)


def test_a_database_that_went_away_raises_psycopg_errors_to_the_consumer(
    database: Postgres, stores: tuple[Store, Store]
) -> None:
    one, _ = stores
    one.store_event(event(1))
    database.kill()
    try:
        with pytest.raises(psycopg.OperationalError):
            one.store_event(event(2))
    finally:
        database.start()
    one.connect()
    assert one.store_event(event(2)).acked_seq == 2  # nothing half-written before the kill


# -- one consumer process's memory of what is stored (central/consumer.py) -------------

KEY = "lockers.v1.hall.L1.events"


def body(evt: dict[str, Any]) -> bytes:
    return json.dumps(evt).encode()


@pytest.fixture
def consumer(database: Postgres, stores: tuple[Store, Store]) -> Iterator[Consumer]:
    """A consumer process (no broker: handle() is its work on one delivery)."""
    process = Consumer([], database.dsn, name="c3")
    yield process
    process._store.close()


def test_a_remembered_duplicate_is_answered_without_the_database(
    database: Postgres, consumer: Consumer
) -> None:
    first, second = event(1), event(2)
    assert consumer.handle(KEY, body(first)).outcome is EventOutcome.STORED
    assert consumer.handle(KEY, body(second)).acked_seq == 2
    database.kill()
    try:
        # Both known stored within the prefix: answered with the prefix, no transaction.
        again = consumer.handle(KEY, body(first))
        assert (again.outcome, again.acked_seq, again.acked_boot_id) == (
            EventOutcome.DUPLICATE,
            2,
            "b1",
        )
        assert consumer.stats.duplicates_remembered == 1
        # A new event, and a known event_id under another seq, need the database.
        with pytest.raises(psycopg.OperationalError):
            consumer.handle(KEY, body(event(3)))
        with pytest.raises(psycopg.OperationalError):
            consumer.handle(KEY, body(dict(first, seq=2)))
    finally:
        database.start()
    consumer._store.connect()
    clash = consumer.handle(KEY, body(dict(first, seq=2)))
    assert clash.outcome is EventOutcome.CONFLICT
    assert (consumer.stats.duplicates, consumer.stats.duplicates_remembered) == (1, 1)


def test_what_another_process_stored_or_what_lies_beyond_a_hole_is_asked_of_the_database(
    stores: tuple[Store, Store], consumer: Consumer
) -> None:
    one, two = stores
    first, second, third = event(1), event(2), event(3)
    two.store_event(first)
    # Stored by another process: the database answers the first time, memory the next.
    assert consumer.handle(KEY, body(first)).outcome is EventOutcome.DUPLICATE
    assert consumer.stats.duplicates_remembered == 0
    assert consumer.handle(KEY, body(first)).acked_seq == 1
    assert consumer.stats.duplicates_remembered == 1
    # 3 stored beyond the hole at 2: its duplicate goes to the database, which knows when
    # another process filled the hole.
    assert consumer.handle(KEY, body(third)).acked_seq == 1
    one.store_event(second)
    again = consumer.handle(KEY, body(third))
    assert (again.outcome, again.acked_seq) == (EventOutcome.DUPLICATE, 3)
    assert consumer.stats.duplicates_remembered == 1
    assert consumer.handle(KEY, body(third)).acked_seq == 3
    assert consumer.stats.duplicates_remembered == 2


def test_the_memory_holds_the_most_recent_event_ids_only() -> None:
    memory = Remembered(capacity=2)
    events = [event(seq) for seq in (1, 2, 3)]
    for evt in events:
        memory.learn(evt, Stored(EventOutcome.STORED, "hall", "L1", evt["seq"], "b1"))
    assert memory.duplicate(events[0]) is None  # forgotten: the database answers
    assert [memory.duplicate(e).acked_seq for e in events[1:]] == [3, 3]  # type: ignore[union-attr]
    assert memory.duplicate(event(2, locker="L2") | {"event_id": events[1]["event_id"]}) is None


def test_acks_are_gathered_per_locker_and_not_repeated_within_a_second() -> None:
    now = [100.0]
    acks = Acks(window_s=1.0, clock=lambda: now[0])

    def ack(seq: int, locker: str = "L1") -> Stored:
        return Stored(EventOutcome.DUPLICATE, "hall", locker, seq, "b1")

    for result in (ack(3), ack(5), ack(4), ack(5, "L2")):
        acks.add(result)
    assert [(a.locker, a.acked_seq) for a in acks.flush()] == [("L1", 5), ("L2", 5)]
    assert acks.coalesced == 2
    assert acks.flush() == []  # nothing new
    now[0] += 0.5
    acks.add(ack(5))  # a duplicate answered with the same prefix: just published
    acks.add(ack(6, "L2"))  # it moved
    assert [(a.locker, a.acked_seq) for a in acks.flush()] == [("L2", 6)]
    assert acks.repeats_skipped == 1
    now[0] += 1.0
    acks.add(ack(5))  # a second later the same ack goes again (the last may be lost)
    assert [a.acked_seq for a in acks.flush()] == [5]
    acks.add(ack(5))
    acks.forget_published()  # a new connection: the last one may have died with the old
    assert [a.acked_seq for a in acks.flush()] == [5]
