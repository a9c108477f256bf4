"""Issue 7.1, clock: randomised flows through the service while the wall clock jumps a
day forward and back (an NTP step, an operator, a dead RTC battery), at the service
level with tests/app's FakeClock (the daemon reads time only through its clock port, so
no wall-time override exists in lockerd, on purpose: nothing to misuse in production).

Flows (seeded): certificates reserved with deadlines a few days out, loaded by staff
card, picked up by ID card (taken or not taken), remote opens with doors that open or
not, monotonic time passing, wall jumps of ±1 day, timers fired. After every step:

* no pulse without a granted open: the driver's pulses are exactly the opens the
  replies granted (plus at most one retry each, of an open still under way);
* a wall jump alone (the monotonic clock standing still) moves no open;
* no reminder beyond the configured offsets and at most one overdue per certificate,
  whatever the jumps;
* no item lost: every loaded certificate not collected is in its compartment;
* the outbox seq strictly increases and the audit chain verifies (recorded times go
  backwards after a jump back; the chain does not care).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from locker_host.store import ChainIntact
from tests.app.fakes import FakeClock
from tests.app.harness import DAY, HOUR, Locker, iso, owner_key
from tests.domain.helpers import ALICE_ID, BOB_ID, OWNER_KEYS

from .profile import Profile

pytestmark = pytest.mark.reliability

OWNERS = (ALICE_ID, BOB_ID)


class Model:
    def __init__(self, locker: Locker, rng: random.Random) -> None:
        self.locker, self.rng = locker, rng
        self.granted: list[str] = []  # compartments of granted opens, in order
        self.loaded: dict[str, str] = {}  # application -> compartment
        self.reserved: dict[str, tuple[str, str]] = {}  # application -> (compartment, owner)
        self.applications = 0
        self.jumps = 0

    def opens_of(self, reply: dict[str, Any]) -> None:
        if reply.get("ok"):
            self.granted += [o["compartment"] for o in reply.get("opens", [])]

    async def step(self) -> None:
        action = self.rng.choice(
            ["reserve", "load", "pickup", "remote", "advance", "jump", "jump", "timers"]
        )
        await getattr(self, action)()

    async def reserve(self) -> None:
        self.applications += 1
        application, owner = f"APP-{self.applications}", self.rng.choice(OWNERS)
        deadline = self.locker.clock.wall_s + self.rng.uniform(0.5, 4.0) * DAY
        reply = await self.locker.central(
            "reserve",
            application=application,
            owner_key=owner_key(owner),
            key_version=OWNER_KEYS.current,
            size=self.rng.choice("SML"),
            department="tax",
            deadline=iso(deadline),
        )
        if reply["ok"]:
            self.reserved[application] = (reply["compartment"], owner)

    async def load(self) -> None:
        reply = (await self.locker.kiosk.staff_card("card-tax", "load")).to_json()
        self.opens_of(reply)
        if not reply["ok"]:
            return
        for open_ in reply["opens"]:
            await self.locker.use(open_["compartment"], item_after=True)
        for application, (cid, _) in self.reserved.items():
            if any(o["compartment"] == cid for o in reply["opens"]):
                self.loaded[application] = cid

    async def pickup(self) -> None:
        owner = self.rng.choice(OWNERS)
        reply = (await self.locker.kiosk.pickup_by_card(owner)).to_json()
        self.opens_of(reply)
        if not reply["ok"]:
            return
        take = self.rng.random() < 0.7
        for open_ in reply["opens"]:
            await self.locker.use(open_["compartment"], item_after=not take)

    async def remote(self) -> None:
        free = [c for c, v in self.locker.state.compartments.items() if v.state.value == "free"]
        if not free:
            return
        cid = self.rng.choice(free)
        reply = await self.locker.central("open", compartment=cid, reason="check")
        self.opens_of(reply)
        if reply["ok"] and self.rng.random() < 0.6:
            await self.locker.use(cid, item_after=False)

    async def advance(self) -> None:
        self.locker.clock.advance(self.rng.uniform(1, 2 * HOUR))
        await self.locker.service.on_timer()

    async def jump(self) -> None:
        before = {k: v.state for k, v in self.locker.state.opens.items()}
        self.jumps += 1
        self.locker.clock.jump_wall(self.rng.choice((DAY, -DAY)))
        await self.locker.service.on_timer()
        after = {k: v.state for k, v in self.locker.state.opens.items()}
        assert after == before, "a wall jump moved an open (opens run on the monotonic clock)"

    async def timers(self) -> None:
        await self.locker.run_timers(limit=50)


async def check(model: Model) -> None:
    locker = model.locker
    pulsed = locker.driver.pulsed()
    granted = Counter(model.granted)
    for cid, count in Counter(pulsed).items():
        assert count <= 2 * granted[cid], f"{cid} pulsed {count} times for {granted[cid]} opens"
    events = await locker.outbox()
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs)), "outbox seq not strictly increasing"
    offsets = len(locker.service.config.policy.reminder_offsets_s)
    per_app = Counter((e.type, e.payload.get("application")) for e in events)
    for (kind, application), count in per_app.items():
        if kind == "certificate.reminder":
            assert count <= offsets, f"{application}: {count} reminders for {offsets} offsets"
        if kind == "certificate.overdue":
            assert count == 1, f"{application}: overdue {count} times"
    gone = {e.payload["application"] for e in events if e.type == "certificate.collected"}
    held = {
        str(item.item_id): str(cid)
        for cid, c in locker.state.compartments.items()
        for item in c.items
    }
    for application, cid in model.loaded.items():
        if application not in gone:
            assert held.get(application) == cid, f"{application} lost from {cid}"


async def test_day_long_clock_jumps_during_flows_break_no_invariant(
    tmp_path: Path, profile: Profile, record_property: Any
) -> None:
    rng = random.Random(7004)
    totals: Counter[str] = Counter()
    for flow in range(profile.clock_flows):
        locker = await Locker.start(tmp_path / f"flow{flow}.db", clock=FakeClock())
        model = Model(locker, rng)
        for _ in range(rng.randint(10, 40)):
            await model.step()
            await check(model)
        verdict = await locker.service.runner.run(lambda s: s.verify_audit_chain())
        assert isinstance(verdict, ChainIntact), verdict
        events = await locker.event_types()
        totals.update(events)
        totals["wall jumps"] += model.jumps
        totals["pulses"] += len(locker.driver.pulses)
        await locker.close()
    summary = f"{profile.clock_flows} flows: " + ", ".join(
        f"{k} {v}" for k, v in sorted(totals.items()) if not k.startswith("board")
    )
    record_property("clock", summary)
    print(summary)
    assert totals["wall jumps"] > profile.clock_flows  # the jumps happened
    assert totals["certificate.overdue"] > 0 and totals["certificate.reminder"] > 0
