"""Issue 7.1, crash: `kill -9` of lockerd at random points of randomised flows, restart,
and the invariants after every restart.

Flows (seeded): certificates reserved by the central system, loaded by a clerk's staff
card (the people put the item in once the door opens), picked up by ID card swipe (the
owner takes it), remote opens, redelivered commands and stale ones. After each batch
lockerd is killed with SIGKILL after a random delay (between a commit and its pulse,
during a pulse, with a door open, while idle), then:

* the audit hash chain verifies (read-only, before the restart);
* nothing opens by itself: no unlock write from the kill until the restarted daemon has
  reconciled, and redelivered commands (same command_id, now expired) pulse nothing;
* no item lost: every certificate the outbox says was loaded and not since collected,
  and every reservation that was acknowledged, is in the restarted daemon's state;
* event seq gap-free at the central system's acknowledging consumer (lockerd's MQTT
  bridge to a real Mosquitto with persistence; tests/mqtt/consumer.py): every event up
  to the moment the outbox is empty again arrived, in order, across every boot, and a
  duplicate is only a repeat of the same seq and event_id;
* a command that arrives after its expires_at is refused `expired` and pulses nothing;
* overall, unlock writes <= 2 x opens (a pulse and at most one retry each).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest

from mqtt_bridge import Topics
from tests.e2e.lockerd import MARKET_CLERK
from tests.mqtt.broker import Mosquitto, persistence_lines

from .central import CentralSide, ConsumerJournal
from .daemon import Run, audit_chain_intact, iso_in, running_locker, unlock_writes
from .people import People
from .profile import Profile

pytestmark = pytest.mark.reliability

GONE = ("certificate.collected", "certificate.recalled", "certificate.cancelled")


def writes_since(run: Run, since: float) -> list[tuple[int, int, float]]:
    return [w for w in unlock_writes(run.rig) if w[2] >= since]


class Flows:
    """Seeded random actions against the running daemon; what was acknowledged is kept."""

    def __init__(self, run: Run, people: People, rng: random.Random) -> None:
        self.run, self.people, self.rng = run, people, rng
        self.reserved: dict[str, str] = {}  # application -> owner name (acknowledged)
        self.loaded: dict[str, str] = {}  # application -> compartment (planned)
        self.opens_sent: list[tuple[str, dict[str, Any]]] = []  # (command_id, payload)
        self.applications = 0
        self.stale_refused = 0

    def step(self) -> None:
        action = self.rng.choice(["reserve", "reserve", "load", "pickup", "remote", "stale"])
        getattr(self, action)()

    def reserve(self) -> None:
        self.applications += 1
        application = f"APP-{self.applications}"
        who = self.rng.choice(["alice", "bob"])
        size = self.rng.choice("SML")
        reply = self.run.reserve(application, self.run.locker.card[who], size)
        if reply["ok"]:
            self.reserved[application] = who
        else:
            assert reply["error"]["code"] == "no_compartment_available", reply

    def load(self) -> None:
        for view in self.run.compartments().values():
            if view["state"] == "reserved":
                self.people.plan(view["compartment"], "put")
        self.run.locker.rig.staff_card(MARKET_CLERK)

    def pickup(self) -> None:
        who = self.rng.choice(["alice", "bob"])
        for view in self.run.compartments().values():
            if view["state"] == "occupied":  # whoever it is for: only the owner's open
                self.people.plan(view["compartment"], "take")
        self.run.rig.swipe(self.run.locker.card[who])

    def remote(self) -> None:
        free = [c for c, v in self.run.compartments().items() if v["state"] == "free"]
        if free:
            payload = {
                "command_id": f"open-{len(self.opens_sent) + 1}",
                "compartment": self.rng.choice(free),
                "reason": "crash test",
                "expires_at": iso_in(1.0),  # expired by the time it is redelivered
            }
            self.opens_sent.append((payload["command_id"], payload))
            self.run.lockerd.admin("open", payload)

    def stale(self) -> None:
        free = [c for c, v in self.run.compartments().items() if v["state"] == "free"]
        if free:
            reply = self.run.command(
                "open", compartment=free[0], reason="stale", expires_at=iso_in(-30)
            )
            assert not reply["ok"] and reply["error"]["code"] == "expired", reply
            self.stale_refused += 1


def check_after_restart(run: Run, flows: Flows) -> None:
    journal = run.journal
    journal.refresh()
    journal.assert_gap_free()
    views = run.compartments()
    held = {item["item"]: cid for cid, v in views.items() for item in v["items"]}
    gone = {e["payload"]["application"] for e in journal.events if e["type"] in GONE}
    for event in journal.of("certificate.loaded"):
        application = event["payload"]["application"]
        if application not in gone:
            assert held.get(application) == event["payload"]["compartment"], (
                f"{application} was loaded into {event['payload']['compartment']} and is "
                f"not there after the restart: {held.get(application)}"
            )
    for application in flows.reserved:
        assert application in held or application in gone, f"{application} was lost"


def mqtt_settings(port: int) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "keepalive_s": 5,
        "reconnect_min_s": 1,
        "reconnect_max_s": 1,
    }


def test_kill_9_at_random_points_loses_nothing_and_repeats_nothing(
    tmp_path: Path, commissioned_db: Path, profile: Profile, record_property: Any
) -> None:
    rng = random.Random(7002)
    broker = Mosquitto(
        tmp_path / "broker", lines=["allow_anonymous true", *persistence_lines(tmp_path / "broker")]
    )
    broker.start()
    central = CentralSide(broker.port, Topics("e2e", "L01"))
    central.start()
    changes = {"housekeeping": {"checkpoint_interval_s": 1.0}, "mqtt": mqtt_settings(broker.port)}
    try:
        crash_loop(tmp_path, commissioned_db, profile, record_property, rng, changes, central)
    finally:
        central.stop()
        broker.kill()
    assert not central.contract.violations, central.contract.violations[:10]


def crash_loop(
    tmp_path: Path,
    commissioned_db: Path,
    profile: Profile,
    record_property: Any,
    rng: random.Random,
    changes: dict[str, Any],
    central: CentralSide,
) -> None:
    with running_locker(tmp_path, commissioned_db, changes) as run:
        run.journal = ConsumerJournal(run.lockerd, central=central)
        rig, lockerd = run.rig, run.lockerd
        rig.doors_open_by_themselves(None, close_after=0.4)
        people = People(rig)
        people.start()
        flows = Flows(run, people, rng)
        redelivered = restarted = 0
        started = time.monotonic()
        try:
            run.wait_boards_online()
            for _ in range(profile.crash_kills):
                for _ in range(rng.randint(1, 5)):
                    flows.step()
                    time.sleep(rng.uniform(0.0, 0.4))
                time.sleep(rng.uniform(0.0, 1.2))
                lockerd.kill9()
                killed_at = time.monotonic()
                people.forget()  # nobody is at the locker while it restarts
                audit_chain_intact(lockerd.database)
                time.sleep(max(0.0, 1.1 - (time.monotonic() - killed_at)))  # commands expire
                lockerd.start()
                restarted += 1
                run.wait_boards_online()
                for command_id, payload in flows.opens_sent:  # redelivery of expired commands
                    again = lockerd.admin("open", payload)
                    assert again["ok"] or again["error"]["code"] == "expired", (command_id, again)
                    redelivered += 1
                flows.opens_sent.clear()
                time.sleep(0.3)  # a poll cycle or more: anything that would pulse, has
                repeated = writes_since(run, killed_at)
                assert repeated == [], (
                    f"unlock writes after the kill, before any new open: {repeated}"
                )
                check_after_restart(run, flows)
                run.return_faulty_to_service()
        finally:
            people.stop()
        elapsed = time.monotonic() - started
        journal = run.journal
        journal.refresh()
        audit_chain_intact(lockerd.database)
        opens = {e["payload"]["open_id"] for e in journal.events if e["type"].startswith("open.")}
        writes = unlock_writes(rig)
        unknown = len(journal.of("open.outcome_unknown"))
        in_flight = sum(
            1 for e in journal.of("locker.restarted")[1:] if e["payload"]["unknown_outcomes"]
        )
        summary = (
            f"{profile.crash_kills} kills, {restarted} restarts, {len(journal.events)} events "
            f"(seq gap-free at the consumer), {len(flows.reserved)} reservations acknowledged, "
            f"{len(journal.of('certificate.loaded'))} loaded, "
            f"{len(journal.of('certificate.collected'))} collected, {len(opens)} opens, "
            f"{len(writes)} unlock writes, {unknown} outcome_unknown ({in_flight} kills with "
            f"an open under way), {redelivered} redelivered "
            f"commands, {flows.stale_refused} stale commands refused, "
            f"people {len(people.done)} actions, {elapsed:.0f} s"
        )
        duplicates = central.duplicates()
        accepted = central.accepted()
        summary += (
            f"; consumer accepted {len(accepted)}, duplicates {len(duplicates)}, "
            f"events that arrived while it acknowledged {central.arrived_during_ack()}"
        )
        record_property("crash", summary)
        print(summary)
        for duplicate in duplicates:  # at least once: a repeat, never a different event
            assert accepted[duplicate["seq"] - 1]["event_id"] == duplicate["event_id"]
        assert restarted == profile.crash_kills
        assert len(writes) <= 2 * len(opens), summary
        assert len(journal.of("certificate.loaded")) > 0, summary  # the flows did run
        assert len(journal.of("locker.restarted")) == restarted + 1
