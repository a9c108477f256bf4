"""kill -9: a committed unit of work survives, an unfinished one leaves no trace.

The child is a real process writing a real file; the parent kills it with
SIGKILL at a point it reports on stdout (no sleeps, no timing), then reopens
the database as the restarted daemon would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from locker_host.store import ChainHead, ChainIntact, Store
from locker_host.store.boots import boots
from locker_host.store.database import connect

from .builders import events_work

CHILD = r"""
import sys
from datetime import UTC, datetime

from locker_host.store import (
    AuditOutcome, AuditRecord, Document, OutgoingEvent, StateChanges, Store, UnitOfWork, outbox,
)

path, mode = sys.argv[1], sys.argv[2]
now = datetime(2021, 6, 1, 8, 30, tzinfo=UTC)
store = Store.open(path, now=now)
work = UnitOfWork(
    state=StateChanges(put=[Document("open", "O1", {"compartment": "A07", "purpose": "pickup"})]),
    audit=[AuditRecord("citizen", "pickup", AuditOutcome.OK, "A07", {"open": "O1"})],
    events=[OutgoingEvent("compartment.unlocking", {"n": n}) for n in range(3)],
)
if mode == "in-transaction":
    original = outbox.append

    def append_then_hang(*args, **kwargs):
        event = original(*args, **kwargs)
        print("in-transaction", flush=True)
        sys.stdin.readline()  # killed here, with state and audit written but not committed
        return event

    outbox.append = append_then_hang
receipt = store.commit(work, now=now)
print("committed", receipt.chain_head.seq, receipt.chain_head.hash, flush=True)
sys.stdin.readline()  # killed here: after the commit, before any effect
"""


def _run_child_and_kill(db_path: Path, mode: str) -> str:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    os.kill(child.pid, signal.SIGKILL)
    _, stderr = child.communicate()
    assert child.returncode == -signal.SIGKILL, stderr
    assert line, f"the child died before reaching its kill point: {stderr}"
    return line.strip()


def test_committed_unit_of_work_survives_kill_9(db_path: Path, now: datetime) -> None:
    line = _run_child_and_kill(db_path, "committed")
    _, seq, digest = line.split()
    # The commit is in the WAL, not yet checkpointed: reopening must recover it from there.
    assert Path(f"{db_path}-wal").stat().st_size > 0

    store = Store.open(db_path, now=now)
    try:
        assert store.load_state() == {"open": {"O1": {"compartment": "A07", "purpose": "pickup"}}}
        assert [e.seq for e in store.pending_events()] == [1, 2, 3]
        head = ChainHead(int(seq), digest)
        assert store.verify_audit_chain(anchor=head) == ChainIntact(rows=1, head=head)
    finally:
        store.close()


def test_unit_of_work_killed_half_way_leaves_nothing(db_path: Path, now: datetime) -> None:
    assert _run_child_and_kill(db_path, "in-transaction") == "in-transaction"

    store = Store.open(db_path, now=now)  # quick_check runs here
    try:
        assert store.load_state() == {}
        assert store.pending_events() == []
        assert store.outbox_statistics().head_seq == 0
        assert store.audit_entries() == []
        assert store.verify_audit_chain() == ChainIntact(rows=0, head=store.chain_head())
        # The next unit of work numbers from 1: the lost transaction took no seq.
        assert store.commit(events_work(1), now=now).events[0].seq == 1
    finally:
        store.close()
    db = connect(db_path)
    try:
        assert len(boots(db)) == 2  # the child's boot (committed on open) and ours
    finally:
        db.close()
