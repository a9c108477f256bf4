"""Time (DESIGN.md section 5) through the service: monotonic timers, an untrusted
wall clock that defers deadline actions, and wall-clock jumps of a day either way."""

from __future__ import annotations

from pathlib import Path

from locker_host.store import ChainIntact
from tests.domain.helpers import ALICE_ID, BOB_ID

from .fakes import FakeClock, cid
from .harness import DAY, HOUR, Locker, iso

DEADLINE_EVENTS = (
    "certificate.reminder",
    "certificate.overdue",
    "dossier.reminder",
    "dossier.overdue",
)


async def deadline_events(locker: Locker) -> list[str]:
    return [t for t in await locker.event_types() if t in DEADLINE_EVENTS]


async def test_an_untrusted_clock_defers_deadline_actions_then_catches_up(db_path: Path) -> None:
    clock = FakeClock(trusted=False)
    locker = await Locker.start(db_path, clock=clock)
    certificate = await locker.reserve("APP-1", BOB_ID, deadline=iso(clock.wall_s + DAY))
    await locker.load(certificate)
    dropoff = ((await locker.kiosk.dropoff_by_card(ALICE_ID, "tax", "S")).to_json())["opens"][0]
    await locker.use(dropoff["compartment"], item_after=True)
    dossier = locker.state.compartments[cid(dropoff["compartment"])].items[0]
    assert dossier.deadline_wall_s is None  # its SLA starts from the first trusted reading

    # Remote opens wait for a trusted clock (a stale one cannot be told from a fresh one),
    # and so cannot the expiry check: other commands are carried out.
    remote = await locker.central("open", compartment="B01", reason="x")
    assert remote["error"]["code"] == "clock_untrusted"
    stale = await locker.central("inventory", expires_at=iso(clock.wall_s - HOUR))
    assert stale["ok"]

    clock.advance(3 * DAY)
    wakeup = locker.service.next_wakeup()
    assert wakeup is not None and wakeup <= clock.mono_s + 60  # keeps looking at the clock
    await locker.service.on_timer()
    assert await deadline_events(locker) == []

    clock.trusted = True
    await locker.service.on_timer()
    # Overdue at once, no burst of reminders that are too late to help.
    assert await deadline_events(locker) == ["certificate.overdue"]
    dossier = locker.state.compartments[cid(dropoff["compartment"])].items[0]
    sla = locker.service.config.policy.dossier_collection_sla_s
    assert dossier.deadline_wall_s == clock.wall_s + sla
    await locker.service.on_timer()
    assert await deadline_events(locker) == ["certificate.overdue"]
    assert (await locker.central("open", compartment="B01", reason="x"))["ok"]
    await locker.close()


async def test_the_wall_clock_jumps_a_day_forward_and_back(db_path: Path) -> None:
    clock = FakeClock()
    locker = await Locker.start(db_path, clock=clock)
    certificate = await locker.reserve("APP-1", BOB_ID, deadline=iso(clock.wall_s + 3 * DAY))
    await locker.load(certificate)
    remote = (await locker.ok("open", compartment="B01", reason="check"))["opens"][0]

    clock.jump_wall(DAY)  # the 2-days-before reminder is due
    await locker.service.on_timer()
    assert await deadline_events(locker) == ["certificate.reminder"]
    clock.jump_wall(-DAY)
    await locker.service.on_timer()
    clock.jump_wall(DAY)
    await locker.service.on_timer()
    assert await deadline_events(locker) == ["certificate.reminder"]  # never repeated

    clock.jump_wall(2 * DAY)  # past the deadline
    await locker.service.on_timer()
    assert await deadline_events(locker) == ["certificate.reminder", "certificate.overdue"]
    clock.jump_wall(-2 * DAY)
    await locker.service.on_timer()
    assert await deadline_events(locker) == ["certificate.reminder", "certificate.overdue"]
    # Still collectable after a jump back: overdue waits for staff, it does not lock the owner out.
    assert locker.state.opens[remote["open_id"]].state.value == "pulsed"  # monotonic: untouched

    clock.advance(locker.service.config.policy.open_confirm_timeout_s)
    await locker.service.on_timer()
    assert locker.state.opens[remote["open_id"]].state.value == "retried"
    assert locker.driver.pulsed() == ["A03", "B01", "B01"]

    reply = (await locker.kiosk.pickup_by_card(BOB_ID)).to_json()
    assert reply["ok"] and reply["opens"][0]["compartment"] == certificate
    # The audit chain and the outbox do not care that recorded times went backwards.
    verdict = await locker.service.runner.run(lambda s: s.verify_audit_chain())
    assert isinstance(verdict, ChainIntact)
    seqs = [e.seq for e in await locker.outbox()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    await locker.close()


async def test_wall_deadlines_are_rechecked_at_least_every_minute(db_path: Path) -> None:
    clock = FakeClock()
    locker = await Locker.start(db_path, clock=clock)
    assert locker.service.next_wakeup() is None  # nothing due at all
    certificate = await locker.reserve("APP-1", BOB_ID, deadline=iso(clock.wall_s + 3 * DAY))
    await locker.load(certificate)
    wakeup = locker.service.next_wakeup()
    assert wakeup is not None and wakeup == clock.mono_s + 60
    clock.jump_wall(DAY)  # noticed at the next wakeup, not a day later
    clock.advance(60)
    await locker.service.on_timer()
    assert await deadline_events(locker) == ["certificate.reminder"]
    await locker.close()
