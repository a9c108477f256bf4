"""Hypothesis: random appends, acks and reboots against a model of the outbox."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from locker_host.store import Store, StoreConfig

from .builders import events_work

START = datetime(2021, 6, 1, tzinfo=UTC)
MAX_PENDING = 25


class OutboxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "locker.db"
        self.now = START
        self.store = Store.open(
            self.path, now=self.now, config=StoreConfig(outbox_max_pending=MAX_PENDING)
        )
        # The model: every seq ever assigned with its boot, and the acked level.
        self.assigned: list[tuple[int, str]] = []
        self.acked = 0

    def _tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    @rule(count=st.integers(min_value=0, max_value=6))
    def append(self, count: int) -> None:
        receipt = self.store.commit(events_work(count), now=self._tick())
        first = len(self.assigned) + 1
        assert [e.seq for e in receipt.events] == list(range(first, first + count))
        self.assigned.extend((e.seq, e.boot_id) for e in receipt.events)

    @precondition(lambda self: self.assigned)
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        seq = data.draw(st.integers(min_value=1, max_value=len(self.assigned)))
        boot_id = self.assigned[seq - 1][1]
        newly = self.store.ack_events(boot_id=boot_id, seq=seq)
        assert newly <= max(0, seq - self.acked)
        self.acked = max(self.acked, seq)

    @rule()
    def reboot(self) -> None:
        old_boot = self.store.boot_id
        self.store.close()
        self.store = Store.open(
            self.path, now=self._tick(), config=StoreConfig(outbox_max_pending=MAX_PENDING)
        )
        assert self.store.boot_id != old_boot

    @invariant()
    def pending_is_the_unacked_tail_without_gaps(self) -> None:
        stats = self.store.outbox_statistics()
        head = len(self.assigned)
        assert stats.head_seq == head
        assert stats.acked_seq == self.acked
        expected_pending = min(head - self.acked, MAX_PENDING)
        assert stats.pending == expected_pending
        pending = self.store.pending_events(limit=1000)
        assert [e.seq for e in pending] == list(range(head - expected_pending + 1, head + 1))
        assert [(e.seq, e.boot_id) for e in pending] == self.assigned[head - expected_pending :]

    def teardown(self) -> None:
        self.store.close()
        self.dir.cleanup()


OutboxMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestOutboxProperties = OutboxMachine.TestCase
