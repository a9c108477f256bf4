"""The outbox: gap-free seq across boots, cumulative ack, bounded retention."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from locker_host.store import (
    AckBeyondHead,
    AckBootMismatch,
    Store,
    StoreConfig,
)

from .builders import events_work


def test_seq_is_gap_free_over_many_commits(store: Store, now: datetime) -> None:
    seqs: list[int] = []
    for n in range(60):
        receipt = store.commit(events_work(n % 4, first=len(seqs)), now=now)
        seqs.extend(e.seq for e in receipt.events)
    assert seqs == list(range(1, len(seqs) + 1))
    pending = store.pending_events(limit=1000)
    assert [e.seq for e in pending] == seqs
    assert [e.payload["n"] for e in pending] == list(range(len(seqs)))
    assert len({e.event_id for e in pending}) == len(seqs)


def test_seq_continues_across_a_reboot_with_a_new_boot_id(db_path: Path, now: datetime) -> None:
    first = Store.open(db_path, now=now)
    first.commit(events_work(3), now=now)
    first.close()

    second = Store.open(db_path, now=now + timedelta(minutes=1))
    try:
        assert second.boot_id != first.boot_id
        receipt = second.commit(events_work(2), now=now)
        assert [e.seq for e in receipt.events] == [4, 5]
        pending = second.pending_events()
        assert [(e.seq, e.boot_id) for e in pending] == [
            (1, first.boot_id),
            (2, first.boot_id),
            (3, first.boot_id),
            (4, second.boot_id),
            (5, second.boot_id),
        ]
    finally:
        second.close()


def test_ack_is_cumulative_and_idempotent(store: Store, now: datetime) -> None:
    store.commit(events_work(10), now=now)
    assert store.ack_events(boot_id=store.boot_id, seq=4) == 4
    assert [e.seq for e in store.pending_events()] == [5, 6, 7, 8, 9, 10]
    assert store.ack_events(boot_id=store.boot_id, seq=4) == 0  # QoS 1 duplicate
    assert store.ack_events(boot_id="whatever", seq=2) == 0  # older than what is acked
    assert store.ack_events(boot_id=store.boot_id, seq=10) == 6
    assert store.pending_events() == []
    stats = store.outbox_statistics()
    assert (stats.head_seq, stats.acked_seq, stats.pending) == (10, 10, 0)
    # Acked rows are gone, numbering is not.
    assert [e.seq for e in store.commit(events_work(1), now=now).events] == [11]


def test_pending_pages_after_a_seq(store: Store, now: datetime) -> None:
    store.commit(events_work(10), now=now)
    store.ack_events(boot_id=store.boot_id, seq=2)
    assert [e.seq for e in store.pending_events(limit=3)] == [3, 4, 5]
    assert [e.seq for e in store.pending_events(after_seq=5, limit=3)] == [6, 7, 8]
    assert [e.seq for e in store.pending_events(after_seq=8, limit=3)] == [9, 10]
    assert store.pending_events(after_seq=10) == []


def test_impossible_acks_are_refused(store: Store, now: datetime) -> None:
    store.commit(events_work(3), now=now)
    with pytest.raises(AckBeyondHead) as beyond:
        store.ack_events(boot_id=store.boot_id, seq=4)
    assert (beyond.value.seq, beyond.value.head_seq, beyond.value.code) == (
        4,
        3,
        "outbox_ack_beyond_head",
    )
    with pytest.raises(AckBootMismatch) as mismatch:
        store.ack_events(boot_id="0" * 32, seq=2)
    assert mismatch.value.stored_boot_id == store.boot_id
    assert len(store.pending_events()) == 3


def test_retention_bound_drops_the_oldest_and_counts_them(db_path: Path, now: datetime) -> None:
    store = Store.open(db_path, now=now, config=StoreConfig(outbox_max_pending=5))
    try:
        store.commit(events_work(3), now=now)
        store.commit(events_work(5), now=now + timedelta(hours=1))
        stats = store.outbox_statistics()
        assert (stats.head_seq, stats.pending, stats.dropped_total) == (8, 5, 3)
        assert [e.seq for e in store.pending_events()] == [4, 5, 6, 7, 8]
        assert stats.oldest_pending_at == now + timedelta(hours=1)
        assert stats.oldest_pending_age(now + timedelta(hours=3)) == timedelta(hours=2)
        # An ack naming a dropped event is accepted: there is nothing left to compare.
        assert store.ack_events(boot_id="any", seq=2) == 0
        assert store.ack_events(boot_id=store.boot_id, seq=6) == 3
    finally:
        store.close()


def test_empty_outbox_statistics(store: Store, now: datetime) -> None:
    stats = store.outbox_statistics()
    assert (stats.head_seq, stats.acked_seq, stats.pending, stats.dropped_total) == (0, 0, 0, 0)
    assert stats.oldest_pending_age(now) is None
