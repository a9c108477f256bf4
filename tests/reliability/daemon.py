"""lockerd (a real subprocess) against the in-process simulator, for long randomised runs.

Built from the end-to-end pieces (tests/e2e: `SimRig`, `Lockerd`, the
commissioned database); what it adds is what a long run needs: every event
read once through a cursor (the outbox is never acknowledged here, so it
keeps the whole history with its seq), commands with fresh ids, and the
checks the suite shares (seq gap-free, audit chain, unlock writes that each
belong to an open).
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from locker_host.store.audit import ChainIntact, verify_chain
from tests.e2e.conftest import RAW_IDS, Locker, _config_for, assert_no_personal_data
from tests.e2e.lockerd import Lockerd, merged, owner_key, write_config
from tests.e2e.rig import SimRig, wait_for

TERMINAL_OPEN_EVENTS = ("open.opened", "open.jammed", "open.outcome_unknown")
_ids = itertools.count(1)


def iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


@dataclass
class Journal:
    """Every outbox event of the daemon, read once, in seq order."""

    lockerd: Lockerd
    events: list[dict[str, Any]] = field(default_factory=list)

    def refresh(self) -> list[dict[str, Any]]:
        new: list[dict[str, Any]] = []
        while True:
            after = self.events[-1]["seq"] if self.events else 0
            reply = self.lockerd.admin("events", {"after_seq": after, "limit": 1000})
            assert reply["ok"], reply
            batch = reply["events"]
            self.events.extend(batch)
            new.extend(batch)
            if len(batch) < 1000:
                return new

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def open_outcome(self, open_id: str) -> dict[str, Any] | None:
        for event in self.events:
            if event["type"] in TERMINAL_OPEN_EVENTS and event["payload"]["open_id"] == open_id:
                return event
        return None

    def wait_outcome(self, open_id: str, timeout: float = 20.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            self.refresh()
            return self.open_outcome(open_id)

        event: dict[str, Any] = wait_for(found, timeout=timeout, what=f"the outcome of {open_id}")
        return event

    def wait_event_type(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The first event of `kind` whose payload has `match`, reading on until it comes."""

        def found() -> dict[str, Any] | None:
            self.refresh()
            for event in self.of(kind):
                if all(event["payload"].get(k) == v for k, v in match.items()):
                    return event
            return None

        event: dict[str, Any] = wait_for(found, timeout=timeout, what=f"event {kind} {match}")
        return event

    def assert_gap_free(self) -> None:
        seqs = [e["seq"] for e in self.events]
        assert seqs == list(range(1, len(seqs) + 1)), f"seq gaps or repeats: {seqs[:5]}..."


@dataclass
class Run:
    """One locker under test: the simulator, lockerd and its journal."""

    locker: Locker
    journal: Journal

    @property
    def rig(self) -> SimRig:
        rig = self.locker.rig
        assert isinstance(rig, SimRig)
        return rig

    @property
    def lockerd(self) -> Lockerd:
        return self.locker.lockerd

    def command(self, name: str, **fields: Any) -> dict[str, Any]:
        """A central command through the admin socket, with a fresh id and an hour to live."""
        fields.setdefault("command_id", f"rel-{next(_ids)}")
        fields.setdefault("expires_at", iso_in(3600))
        return self.lockerd.admin(name, fields)

    def remote_open(self, cid: str, **fields: Any) -> dict[str, Any]:
        return self.command("open", compartment=cid, reason="reliability", **fields)

    def reserve(self, application: str, id_number: str, size: str = "S") -> dict[str, Any]:
        return self.command(
            "reserve",
            application=application,
            owner_key=owner_key(id_number),
            key_version=1,
            size=size,
            department="market",
            deadline=iso_in(3 * 86400),
        )

    def state(self) -> dict[str, Any]:
        reply = self.lockerd.admin("state")
        assert reply["ok"], reply
        state: dict[str, Any] = reply["state"]
        return state

    def compartments(self) -> dict[str, dict[str, Any]]:
        return {c["compartment"]: c for c in self.state()["compartments"]}

    def compartment_door(self, cid: str) -> str:
        door: str = self.compartments()[cid]["door"]
        return door

    def wait_boards_online(self, timeout: float = 20.0) -> None:
        wait_for(
            lambda: set(self.state()["boards"].values()) == {"online"},
            timeout=timeout,
            what="every board online",
        )

    def return_faulty_to_service(self) -> list[str]:
        """Staff clear every fault (a failed open, a forced door): the alarm is cleared."""
        cleared = []
        for cid, view in self.compartments().items():
            if view["state"] == "faulty":
                reply = self.command(
                    "set_service",
                    compartment=cid,
                    in_service=True,
                    reason="cleared by the reliability suite",
                )
                assert reply["ok"], reply
                cleared.append(cid)
        return cleared

    def wiring(self) -> dict[tuple[int, int], str]:
        return {(u, c): cid for cid, _, u, c in self.rig.compartments()}


def audit_chain_intact(database: Path) -> ChainIntact:
    """Verify the audit hash chain through a read-only connection (the daemon may be dead)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        verdict = verify_chain(sqlite_utils.Database(conn))
    finally:
        conn.close()
    assert isinstance(verdict, ChainIntact), f"the audit chain is broken: {verdict}"
    return verdict


def unlock_writes(rig: SimRig) -> list[tuple[int, int, float]]:
    with rig.spy._lock:
        return list(rig.spy.writes)


@contextmanager
def running_locker(
    tmp_path: Path,
    commissioned_db: Path,
    changes: dict[str, Any] | None = None,
    *,
    secrets: str = "",
) -> Iterator[Run]:
    """A simulator, a commissioned database and a running lockerd; SIGTERM and a scan for
    raw ID numbers in the logs and every SQLite file (WAL included) at the end.
    `changes` are merged into lockerd.toml, `secrets` appended to the secrets file."""
    rig = SimRig(tmp_path / "run")
    try:
        workdir = tmp_path / "lockerd"
        workdir.mkdir()
        config, _, cards = _config_for(rig, workdir)
        config = merged(config, changes or {})
        path = write_config(workdir / "lockerd.toml", config)
        if secrets:  # more tables for the secrets file (e.g. [mqtt] command_keys)
            secrets_file = Path(config["paths"]["secrets"])
            secrets_file.write_text(secrets_file.read_text(encoding="utf-8") + secrets)
        database = Path(config["paths"]["database"])
        for suffix in ("", "-wal"):
            if Path(f"{commissioned_db}{suffix}").exists():
                shutil.copy(f"{commissioned_db}{suffix}", f"{database}{suffix}")
        lockerd = Lockerd(
            path, workdir / "lockerd.log", Path(config["paths"]["admin_socket"]), database
        )
        lockerd.start()
        try:
            yield Run(Locker(rig, lockerd, config, workdir, cards), Journal(lockerd))
            if lockerd.process is not None:
                code = lockerd.stop()
                assert code == 0, f"lockerd did not stop cleanly ({code}):\n{lockerd.log_tail()}"
        finally:
            lockerd.close()
        assert_no_personal_data(lockerd.files(), set(cards.values()) | set(RAW_IDS))
    finally:
        rig.close_rig()


def settle(seconds: float) -> None:
    """Let the daemon's pollers run (a bounded wait, never a timing assertion)."""
    time.sleep(seconds)
