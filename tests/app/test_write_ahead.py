"""Write-ahead: state, audit, events and the command reply are committed before any
effect runs (DESIGN.md section 2, 4.8; field lessons #14, #15).

A real process (``crash_child.py``) runs the service on a real SQLite file and
dies at a chosen point; the test then reads the file as the restarted daemon
would, and restarts the service on it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from locker_host.app import PulseOutcome
from locker_host.domain import PulseLock
from locker_host.store import Store
from tests.domain.helpers import ALICE_ID, config

from .crash_child import EXIT_CODE, REMOTE_OPEN
from .fakes import FakeLocker, cid
from .harness import Locker

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2023, 11, 14, 22, 20, tzinfo=UTC)


def run_child(db: Path, log: Path, mode: str) -> None:
    child = subprocess.run(
        [sys.executable, "-m", "tests.app.crash_child", str(db), str(log), mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == EXIT_CODE, (child.stdout, child.stderr)
    assert "survived" not in child.stdout


def logged_pulses(log: Path) -> list[tuple[str, str]]:
    if not log.exists():
        return []
    return [tuple(line.split()) for line in log.read_text().splitlines()]  # type: ignore[misc]


@pytest.mark.parametrize("mode", ["crash-on-pulse", "crash-on-pulse-door-open"])
async def test_a_crash_between_commit_and_pulse_loses_nothing_and_repeats_nothing(
    tmp_path: Path, mode: str
) -> None:
    db, log = tmp_path / "locker.db", tmp_path / "pulses.log"
    run_child(db, log, mode)
    [(compartment, open_id)] = logged_pulses(log)
    assert compartment == "A01"

    # What the decision left on disk before the pulse was even attempted.
    store = Store.open(db, now=NOW)
    try:
        snapshot = store.load_state()
        assert snapshot["open"][open_id]["compartment"] == "A01"
        assert snapshot["compartment"]["A01"]["open_id"] == open_id
        [granted] = [e for e in store.audit_entries(limit=1000) if e.action == "remote_open"]
        assert granted.outcome == "ok" and granted.details["open_id"] == open_id
        stored = store.command_reply("remote-1")
        assert stored is not None
        reply: Any = stored.reply
        assert reply["opens"][0]["open_id"] == open_id
        events = {e.type: e.payload for e in store.pending_events(limit=1000)}
        if mode == "crash-on-pulse-door-open":
            assert events["open.opened"]["open_id"] == open_id
            assert events["open.opened"]["outcome"] == "already_open"
    finally:
        store.close()

    locker = await Locker.start(db)
    [unknown] = await locker.events("open.outcome_unknown")
    assert unknown["open_id"] == open_id and unknown["compartment"] == "A01"
    assert (await locker.events("locker.restarted"))[-1]["unknown_outcomes"] == 1
    a01 = locker.state.compartments[cid("A01")]
    assert a01.state.value == "faulty" and [f.value for f in a01.faults] == ["outcome_unknown"]
    assert not locker.state.opens
    # Never re-executed: not at start-up, not on redelivery of the command.
    assert locker.driver.pulses == []
    again = (await locker.api.handle("open", REMOTE_OPEN)).to_json()
    assert again == reply
    assert locker.driver.pulses == [] and len(logged_pulses(log)) == 1
    await locker.close()


async def test_a_crash_before_the_commit_leaves_no_trace_and_no_pulse(tmp_path: Path) -> None:
    db, log = tmp_path / "locker.db", tmp_path / "pulses.log"
    run_child(db, log, "crash-in-commit")
    assert logged_pulses(log) == []

    store = Store.open(db, now=NOW)
    try:
        snapshot = store.load_state()
        assert "open" not in snapshot
        assert snapshot["compartment"]["A01"]["open_id"] is None
        assert not [e for e in store.audit_entries(limit=1000) if e.action == "remote_open"]
        assert store.command_reply("remote-1") is None
    finally:
        store.close()

    locker = await Locker.start(db)
    assert (await locker.events("locker.restarted"))[-1]["unknown_outcomes"] == 0
    assert locker.compartment_state("A01") == "free"
    # It never happened, so the redelivered command is carried out now, once.
    reply = (await locker.api.handle("open", REMOTE_OPEN)).to_json()
    assert reply["ok"] and locker.driver.pulsed() == ["A01"]
    await locker.close()


@dataclass
class CheckingDriver(FakeLocker):
    """Looks at the database through a second connection at the moment of each pulse."""

    db: Path = Path()
    seen: list[tuple[bool, bool, bool]] = field(default_factory=list)

    async def pulse(self, effect: PulseLock) -> PulseOutcome:
        conn = sqlite3.connect(self.db)
        try:
            open_doc = conn.execute(
                "SELECT count(*) FROM state_documents WHERE kind = 'open' AND id = ?",
                [effect.open_id],
            ).fetchone()[0]
            audit = conn.execute(
                "SELECT count(*) FROM audit_log WHERE json_extract(details, '$.open_id') = ?",
                [effect.open_id],
            ).fetchone()[0]
            reply = conn.execute("SELECT count(*) FROM commands").fetchone()[0]
        finally:
            conn.close()
        self.seen.append((open_doc == 1, audit >= 1, reply >= 1))
        return await super().pulse(effect)


async def test_every_pulse_finds_its_decision_already_committed(db_path: Path) -> None:
    driver = CheckingDriver(config().layout, db=db_path)
    locker = await Locker.start(db_path, driver=driver)
    await locker.ok("open", compartment="B01", reason="inspection")
    await locker.ok("open", compartment="B02", reason="inspection")
    assert driver.seen == [(True, True, True), (True, True, True)]
    await locker.close()


async def test_a_cancelled_caller_whose_commit_lands_is_adopted_but_not_acted_on(
    db_path: Path,
) -> None:
    locker = await Locker.start(db_path)
    runner = locker.service.runner
    release = threading.Event()
    blocker = asyncio.ensure_future(runner.run(lambda _: release.wait(timeout=30)))
    dropoff = asyncio.ensure_future(locker.kiosk.dropoff_by_card(ALICE_ID, "tax", "S"))
    while runner.statistics().jobs_in_flight < 2:  # the commit queues behind the blocker
        await asyncio.sleep(0)
    dropoff.cancel()
    release.set()
    assert await blocker is True
    with pytest.raises(asyncio.CancelledError):
        await dropoff
    # The commit went through on the writer thread: memory follows the disk ...
    [open_] = locker.state.opens.values()
    assert open_.compartment == "A01"
    # ... but a cancelled caller never acts; the next start reports the open as unknown.
    assert locker.driver.pulses == []
    await locker.restart()
    [unknown] = await locker.events("open.outcome_unknown")
    assert unknown["open_id"] == open_.open_id and locker.driver.pulses == []
    await locker.close()
