"""Flow 5 timers: reminders, overdue, SLA; clock trust and clock jumps."""

from __future__ import annotations

from locker_host.domain import (
    CodePurpose,
    ExpectDropoff,
    ItemStage,
    LockerPolicy,
    Purpose,
    Reserve,
    Size,
    StaffOpen,
    StartDropoff,
    next_deadline,
)
from locker_host.domain.ids import ApplicationNumber

from .helpers import ALICE_ID, CENTRAL, DAY, TAX, Harness, card, clerk, config, digest, owner

POLICY = LockerPolicy(reminder_offsets_s=(2 * DAY, 0.5 * DAY), dossier_collection_sla_s=3 * DAY)


def loaded(days: float = 7) -> tuple[Harness, str]:
    h = Harness(config(policy=POLICY))
    h.boards_online()
    reply = h.ok(
        Reserve(
            CENTRAL, ApplicationNumber("APP-1"), owner(ALICE_ID), Size.S, TAX, h.wall_s + days * DAY
        )
    ).reply
    cid = reply.compartment  # type: ignore[union-attr]
    h.ok(StaffOpen(clerk(), Purpose.LOAD))
    h.use(cid, item_after=True)
    return h, cid


def names_after(h: Harness, start: int) -> list[str]:
    return [e.name for d in h.decisions[start:] for e in d.events]


def test_reminders_then_overdue_each_once() -> None:
    h, cid = loaded()
    start = len(h.decisions)
    deadline = h.compartment(cid).items[0].deadline_wall_s
    assert next_deadline(h.config, h.s, clock_trusted=True).wall_s == deadline - 2 * DAY  # type: ignore[operator]
    h.run_timers_until_idle()
    assert names_after(h, start) == [
        "certificate.reminder",
        "certificate.reminder",
        "certificate.overdue",
    ]
    assert h.wall_s == deadline
    assert h.compartment(cid).items[0].stage is ItemStage.OVERDUE
    assert next_deadline(h.config, h.s, clock_trusted=True).wall_s is None


def test_reminders_already_past_when_loaded_are_skipped() -> None:
    h, _ = loaded(days=1)  # the 2-day reminder was due before the certificate arrived
    start = len(h.decisions)
    h.run_timers_until_idle()
    assert names_after(h, start) == ["certificate.reminder", "certificate.overdue"]


def test_untrusted_clock_defers_deadline_actions() -> None:
    h, cid = loaded()
    h.clock_trusted = False
    assert next_deadline(h.config, h.s, clock_trusted=False).wall_s is None
    start = len(h.decisions)
    h.advance(30 * DAY)
    assert names_after(h, start) == []
    assert h.compartment(cid).items[0].stage is ItemStage.HELD
    h.clock_trusted = True
    h.advance(0)
    # Once trusted: the latest due reminder is skipped in favour of overdue, no burst.
    assert names_after(h, start) == ["certificate.overdue"]


def test_a_clock_jump_forward_sends_one_reminder_not_a_burst() -> None:
    h, _ = loaded()
    start = len(h.decisions)
    h.wall_s += 6.9 * DAY  # both reminders are due now
    h.advance(0)
    assert names_after(h, start) == ["certificate.reminder"]
    h.wall_s -= DAY  # and back: nothing is repeated
    h.advance(0)
    h.wall_s += DAY
    h.advance(0)
    assert names_after(h, start) == ["certificate.reminder"]


def test_a_clock_jump_back_a_day_repeats_nothing_and_delays_overdue() -> None:
    h, cid = loaded(days=1)
    start = len(h.decisions)
    h.wall_s -= DAY
    h.run_timers_until_idle()
    assert names_after(h, start).count("certificate.overdue") == 1
    assert h.compartment(cid).items[0].stage is ItemStage.OVERDUE


def test_a_dossier_escalates_after_the_sla() -> None:
    h = Harness(config(policy=POLICY))
    h.boards_online()
    cid = h.ok(StartDropoff(card(ALICE_ID), TAX, Size.S)).reply.opens[0].compartment  # type: ignore[union-attr]
    h.use(cid, item_after=True)
    start = len(h.decisions)
    h.run_timers_until_idle()
    assert names_after(h, start) == ["dossier.reminder", "dossier.reminder", "dossier.overdue"]


def test_a_dossier_deposited_on_an_untrusted_clock_starts_its_sla_once_trusted() -> None:
    h = Harness(config(policy=POLICY))
    h.boards_online()
    h.clock_trusted = False
    cid = h.ok(StartDropoff(card(ALICE_ID), TAX, Size.S)).reply.opens[0].compartment  # type: ignore[union-attr]
    h.use(cid, item_after=True)
    assert h.compartment(cid).items[0].deadline_wall_s is None
    h.clock_trusted = True
    h.advance(10 * DAY)  # the untrusted reading may have been far off: start from now
    assert h.compartment(cid).items[0].deadline_wall_s == h.wall_s + 3 * DAY
    start = len(h.decisions)
    h.run_timers_until_idle()
    assert names_after(h, start) == ["dossier.reminder", "dossier.reminder", "dossier.overdue"]


def test_dropoff_codes_expire() -> None:
    h = Harness()
    h.boards_online()
    h.ok(
        ExpectDropoff(
            CENTRAL,
            ApplicationNumber("D-1"),
            TAX,
            Size.S,
            digest("7654321", CodePurpose.DROPOFF),
            h.wall_s + DAY,
        )
    )
    h.run_timers_until_idle()
    assert h.event_names()[-1] == "dropoff_code.expired"
    assert h.s.dropoffs == ()


def test_the_next_mono_deadline_is_the_earliest_open() -> None:
    h = Harness()
    h.boards_online()
    assert next_deadline(h.config, h.s, clock_trusted=True).mono_s is None
    h.ok(StartDropoff(card(ALICE_ID), TAX, Size.S))
    expected = h.mono_s + h.config.policy.open_confirm_timeout_s
    assert next_deadline(h.config, h.s, clock_trusted=True).mono_s == expected
