"""Flows 2, 3, 5 (recall) and 6: staff collection, loading, recall, maintenance,
and the central system's command set."""

from __future__ import annotations

import pytest

from locker_host.domain import (
    BoardUnreachable,
    Cancel,
    CentralActor,
    CodePurpose,
    CompartmentState,
    ExpectDropoff,
    ExtendDeadline,
    Inventory,
    InventoryReport,
    ItemStage,
    MaintenanceOpen,
    Opening,
    Pickup,
    PulseLock,
    Purpose,
    RecallEntries,
    RecallList,
    RemoteOpen,
    Reserve,
    Reserved,
    SetService,
    Size,
    StaffOpen,
    StaffOpening,
    StaffRole,
    StaffSwipe,
    StartDropoff,
)
from locker_host.domain.ids import ApplicationNumber, CompartmentId

from .helpers import (
    ALICE_ID,
    BOARD1,
    BOB_ID,
    CENTRAL,
    DAY,
    PERMITS,
    TAX,
    Harness,
    card,
    clerk,
    code,
    digest,
    owner,
)


def ready() -> Harness:
    h = Harness()
    h.boards_online()
    return h


def reserve(
    h: Harness,
    application: str = "APP-1",
    who: str = ALICE_ID,
    department=TAX,  # type: ignore[no-untyped-def]
    size: Size = Size.S,
    pickup: str | None = None,
    days: float = 7,
) -> str:
    reply = h.ok(
        Reserve(
            CENTRAL,
            ApplicationNumber(application),
            owner(who),
            size,
            department,
            h.wall_s + days * DAY,
            pickup_code=None if pickup is None else digest(pickup),
        )
    ).reply
    assert isinstance(reply, Reserved)
    return reply.compartment


def deposit(h: Harness, department=TAX) -> str:  # type: ignore[no-untyped-def]
    reply = h.ok(StartDropoff(card(BOB_ID), department, Size.S)).reply
    assert isinstance(reply, Opening)
    cid = reply.opens[0].compartment
    h.use(cid, item_after=True)
    return cid


# -- a staff card's swipe: every purpose at once ---------------------------------------


def test_a_swipe_opens_every_purpose_in_one_decision_and_audits_only_what_it_opened() -> None:
    h = ready()
    h.refused(StaffSwipe(clerk(TAX)), "nothing_for_you")
    (denial,) = h.send(StaffSwipe(clerk(TAX))).audit  # one row, not one per purpose
    assert (denial.action, denial.refusal_code) == ("staff_swipe", "nothing_for_you")
    dossier = deposit(h, TAX)
    certificate = reserve(h, "APP-1")
    deposit(h, PERMITS)  # another department's: not this card's
    decision = h.ok(StaffSwipe(clerk(TAX)))
    reply = decision.reply
    assert isinstance(reply, StaffOpening)
    assert {p: [o.compartment for o in r.opens] for p, r in reply.by_purpose.items()} == {
        Purpose.COLLECT: [dossier],
        Purpose.LOAD: [certificate],
    }
    assert [(r.action, r.granted, r.compartment, r.detail) for r in decision.audit] == [
        ("staff_open", True, dossier, "collect"),
        ("staff_open", True, certificate, "load"),
    ]
    assert [e.compartment for e in decision.effects if isinstance(e, PulseLock)] == [
        dossier,
        certificate,
    ]


def test_a_technicians_swipe_is_one_denial() -> None:
    h = ready()
    deposit(h, TAX)
    decision = h.refused(StaffSwipe(clerk(TAX, StaffRole.TECHNICIAN)), "not_authorised")
    assert len(decision.audit) == 1


# -- flow 2: staff collection ---------------------------------------------------------


def test_a_clerk_collects_their_departments_dossiers_only() -> None:
    h = ready()
    tax1, permits1, tax2 = deposit(h, TAX), deposit(h, PERMITS), deposit(h, TAX)
    decision = h.ok(StaffOpen(clerk(TAX), Purpose.COLLECT))
    opened = [e.compartment for e in decision.effects if isinstance(e, PulseLock)]
    assert opened == sorted([tax1, tax2])
    # Staggered: the two tax compartments share a power supply.
    assert sorted(e.delay_ms for e in decision.effects if isinstance(e, PulseLock))[1] > 0
    h.use(tax1, item_after=False)
    h.use(tax2, item_after=True)
    assert h.event_names().count("dossier.collected") == 1
    assert "dossier.not_collected" in h.event_names()
    assert h.compartment(tax1).state is CompartmentState.FREE
    assert h.compartment(tax2).state is CompartmentState.OCCUPIED
    assert h.compartment(permits1).state is CompartmentState.OCCUPIED


def test_a_clerk_with_nothing_to_do_is_told_so() -> None:
    h = ready()
    h.refused(StaffOpen(clerk(), Purpose.COLLECT), "nothing_for_you")


@pytest.mark.parametrize(
    ("role", "purpose"),
    [
        (StaffRole.TECHNICIAN, Purpose.COLLECT),
        (StaffRole.TECHNICIAN, Purpose.LOAD),
        (StaffRole.CLERK, Purpose.MAINTENANCE),
        (StaffRole.CLERK, Purpose.PICKUP),
        (StaffRole.SUPERVISOR, Purpose.REMOTE),
    ],
)
def test_staff_act_only_for_their_role(role: StaffRole, purpose: Purpose) -> None:
    h = ready()
    deposit(h)
    h.refused(StaffOpen(clerk(TAX, role), purpose), "not_authorised")


# -- flow 3: certificate loading --------------------------------------------------------


def test_reserve_load_and_sms_trigger() -> None:
    h = ready()
    cid = reserve(h)
    assert h.compartment(cid).state is CompartmentState.RESERVED
    assert h.event_names() == ["certificate.reserved"]
    h.refused(StaffOpen(clerk(PERMITS), Purpose.LOAD), "nothing_for_you")
    h.ok(StaffOpen(clerk(TAX), Purpose.LOAD))
    h.use(cid, item_after=True)
    assert h.event_names()[-1] == "certificate.loaded"
    assert h.compartment(cid).items[0].stage is ItemStage.HELD


def test_load_closed_empty_stays_reserved() -> None:
    h = ready()
    cid = reserve(h)
    h.ok(StaffOpen(clerk(), Purpose.LOAD))
    h.use(cid, item_after=False)
    assert h.event_names()[-1] == "certificate.load_failed"
    assert h.compartment(cid).state is CompartmentState.RESERVED


def test_certificates_for_one_owner_share_a_compartment() -> None:
    h = ready()
    first = reserve(h, "APP-1")
    second = reserve(h, "APP-2")
    assert h.decisions[-1].reply.shared  # type: ignore[union-attr]
    other_department = reserve(h, "APP-3", department=PERMITS)
    other_owner = reserve(h, "APP-4", who=BOB_ID)
    other_code = reserve(h, "APP-5", pickup="13572468")
    assert first == second
    assert len({first, other_department, other_owner, other_code}) == 4


def test_a_reserve_is_refused_for_duplicates_past_deadlines_and_short_codes() -> None:
    h = ready()
    reserve(h)
    h.refused(
        Reserve(CENTRAL, ApplicationNumber("APP-1"), owner(ALICE_ID), Size.S, TAX, h.wall_s + DAY),
        "duplicate_application",
    )
    h.refused(
        Reserve(CENTRAL, ApplicationNumber("APP-2"), owner(ALICE_ID), Size.S, TAX, h.wall_s - 1),
        "invalid_deadline",
    )
    short = digest("1234")
    decision = h.refused(
        Reserve(
            CENTRAL,
            ApplicationNumber("APP-2"),
            owner(BOB_ID),
            Size.S,
            TAX,
            h.wall_s + DAY,
            pickup_code=short,
        ),
        "pickup_code_too_short",
    )
    assert decision.refusal.fields["required_length"] == 6  # type: ignore[union-attr]


def test_code_length_grows_with_the_codes_alive() -> None:
    h = ready()
    reserve(h, "APP-1", pickup="123456")
    reserve(h, "APP-2", who=BOB_ID, pickup="654321")  # two alive now: 3 needs 7 digits
    h.refused(
        Reserve(
            CENTRAL,
            ApplicationNumber("APP-3"),
            owner(BOB_ID),
            Size.M,
            TAX,
            h.wall_s + DAY,
            pickup_code=digest("111111"),
        ),
        "pickup_code_too_short",
    )


# -- flow 5: recall ----------------------------------------------------------------


def overdue(h: Harness) -> str:
    cid = reserve(h, days=1)
    h.ok(StaffOpen(clerk(), Purpose.LOAD))
    h.use(cid, item_after=True)
    h.advance(DAY)
    assert h.compartment(cid).items[0].stage is ItemStage.OVERDUE
    return cid


def test_overdue_stays_collectable_until_recalled() -> None:
    h = ready()
    cid = overdue(h)
    h.ok(Pickup(card(ALICE_ID)))
    h.use(cid, item_after=False)
    assert h.event_names()[-1] == "certificate.collected"


def test_staff_recall_their_overdue_items() -> None:
    h = ready()
    cid = overdue(h)
    entries = h.ok(RecallList(CENTRAL, TAX)).reply
    assert isinstance(entries, RecallEntries) and entries.entries[0].compartment == cid
    assert h.ok(RecallList(CENTRAL, PERMITS)).reply == RecallEntries(())
    h.refused(StaffOpen(clerk(PERMITS), Purpose.RECALL), "nothing_for_you")
    h.ok(StaffOpen(clerk(TAX, StaffRole.SUPERVISOR), Purpose.RECALL))
    h.use(cid, item_after=False)
    assert h.event_names()[-1] == "certificate.recalled"
    assert h.compartment(cid).state is CompartmentState.FREE


def test_cancel_before_loading_frees_and_after_loading_goes_to_recall() -> None:
    h = ready()
    cid = reserve(h)
    h.ok(Cancel(CENTRAL, ApplicationNumber("APP-1")))
    assert h.compartment(cid).state is CompartmentState.FREE
    cid = reserve(h, "APP-2", pickup="24681357")
    h.ok(StaffOpen(clerk(), Purpose.LOAD))
    h.use(cid, item_after=True)
    h.ok(Cancel(CENTRAL, ApplicationNumber("APP-2")))
    assert h.compartment(cid).items[0].stage is ItemStage.CANCELLED
    h.refused(Pickup(card(ALICE_ID)), "nothing_for_you")
    h.refused(Pickup(code("24681357")), "wrong_code")
    h.ok(Cancel(CENTRAL, ApplicationNumber("APP-2")))  # again: idempotent
    h.ok(StaffOpen(clerk(), Purpose.RECALL))
    h.refused(Cancel(CENTRAL, ApplicationNumber("APP-2")), "compartment_busy")  # mid-open
    h.use(cid, item_after=False)
    assert h.event_names()[-1] == "certificate.recalled"
    h.refused(Cancel(CENTRAL, ApplicationNumber("APP-2")), "unknown_application")


def test_extend_deadline_brings_an_overdue_item_back() -> None:
    h = ready()
    cid = overdue(h)
    item = h.compartment(cid).items[0]
    h.refused(
        ExtendDeadline(CENTRAL, ApplicationNumber("APP-1"), item.deadline_wall_s - 1),  # type: ignore[operator]
        "invalid_deadline",
    )
    h.ok(ExtendDeadline(CENTRAL, ApplicationNumber("APP-1"), h.wall_s + 3 * DAY))
    extended = h.compartment(cid).items[0]
    assert extended.stage is ItemStage.HELD and extended.reminders_sent == 0
    h.refused(
        ExtendDeadline(CENTRAL, ApplicationNumber("x"), h.wall_s + DAY), "unknown_application"
    )


# -- flow 6: maintenance and remote ---------------------------------------------------------


def test_remote_open_needs_a_reason_a_fresh_command_and_a_trusted_clock() -> None:
    h = ready()
    a01 = CompartmentId("A01")
    h.refused(RemoteOpen(CENTRAL, a01, " ", h.wall_s + 60), "reason_required")
    h.refused(RemoteOpen(CENTRAL, a01, "lost card", h.wall_s - 1), "expired")
    h.refused(RemoteOpen(CENTRAL, CompartmentId("Z9"), "x", h.wall_s + 60), "unknown_compartment")
    h.clock_trusted = False
    h.refused(RemoteOpen(CENTRAL, a01, "lost card", h.wall_s + 60), "clock_untrusted")
    h.clock_trusted = True
    decision = h.ok(RemoteOpen(CENTRAL, a01, "lost card", h.wall_s + 60))
    assert decision.audit[0].actor == CENTRAL and decision.audit[0].action == "remote_open"
    assert decision.audit[0].detail == "remote: lost card"  # the reason typed, audited
    h.refused(RemoteOpen(CENTRAL, a01, "again", h.wall_s + 60), "compartment_busy")


def test_remote_open_that_empties_a_compartment_reports_the_items() -> None:
    h = ready()
    cid = deposit(h)
    h.ok(RemoteOpen(CENTRAL, CompartmentId(cid), "citizen took it back", h.wall_s + 60))
    h.use(cid, item_after=False)
    assert h.event_names()[-1] == "item.removed"
    assert h.compartment(cid).state is CompartmentState.FREE


def test_maintenance_by_a_technician_clears_a_fault() -> None:
    h = ready()
    h.door("A01", opened=True)  # forced
    h.door("A01", opened=False, item=False)
    assert h.compartment("A01").state is CompartmentState.FAULTY
    h.refused(MaintenanceOpen(clerk(), CompartmentId("A01"), "look"), "not_authorised")
    h.refused(
        MaintenanceOpen(clerk(TAX, StaffRole.TECHNICIAN), CompartmentId("A01"), ""),
        "reason_required",
    )
    decision = h.ok(
        MaintenanceOpen(clerk(TAX, StaffRole.TECHNICIAN), CompartmentId("A01"), "forced door")
    )
    assert [r.detail for r in decision.audit] == ["maintenance: forced door"]
    h.use("A01", item_after=False)
    assert h.compartment("A01").state is CompartmentState.FREE


def test_maintenance_finding_something_in_an_empty_compartment_keeps_it_faulty() -> None:
    h = ready()
    h.ok(MaintenanceOpen(clerk(TAX, StaffRole.TECHNICIAN), CompartmentId("A01"), "check"))
    h.use("A01", item_after=True)
    assert h.event_names()[-1] == "item.unexpected"
    assert h.compartment("A01").state is CompartmentState.FAULTY


def test_out_of_service_and_back() -> None:
    h = ready()
    a01, a02 = CompartmentId("A01"), CompartmentId("A02")
    h.refused(SetService(clerk(), a01, False, "broken hinge"), "not_authorised")
    h.refused(SetService(CENTRAL, a01, False, ""), "reason_required")
    h.ok(SetService(clerk(TAX, StaffRole.TECHNICIAN), a01, False, "broken hinge"))
    assert h.compartment("A01").state is CompartmentState.OUT_OF_SERVICE
    assert h.event_names()[-1] == "compartment.out_of_service"
    assert h.ok(StartDropoff(card(ALICE_ID), TAX, Size.S)).reply.opens[0].compartment != a01  # type: ignore[union-attr]
    h.ok(SetService(CENTRAL, a01, False, "again"))  # idempotent
    h.ok(SetService(CENTRAL, a01, True, "fixed"))
    assert h.compartment("A01").state is CompartmentState.FREE
    cid = deposit(h)
    h.refused(SetService(CENTRAL, CompartmentId(cid), False, "x"), "compartment_not_empty")
    dropping = h.ok(StartDropoff(card(ALICE_ID), TAX, Size.S)).reply.opens[0].compartment  # type: ignore[union-attr]
    h.refused(SetService(CENTRAL, dropping, False, "x"), "compartment_busy")
    assert a02


def test_inventory_reports_everything_without_personal_data() -> None:
    h = ready()
    reserve(h, pickup="24681357")
    deposit(h)
    report = h.ok(Inventory(CENTRAL)).reply
    assert isinstance(report, InventoryReport)
    assert len(report.compartments) == len(h.config.layout.compartments)
    text = repr(report)
    assert owner(ALICE_ID).key not in text and owner(BOB_ID).key not in text
    assert digest("24681357").digest not in text
    assert dict(report.boards)[BOARD1.key] == "online"


def test_a_board_offline_makes_its_compartments_unavailable() -> None:
    h = ready()
    cid = reserve(h)
    h.send(BoardUnreachable(BOARD1))
    h.refused(StaffOpen(clerk(), Purpose.LOAD), "compartment_unavailable")
    h.refused(
        RemoteOpen(CENTRAL, CompartmentId(cid), "x", h.wall_s + 60), "compartment_unavailable"
    )
    assert h.ok(StartDropoff(card(BOB_ID), TAX, Size.S)).reply.opens[0].compartment == "B01"  # type: ignore[union-attr]


def test_expect_dropoff_checks_its_inputs() -> None:
    h = ready()
    good = digest("7654321", CodePurpose.DROPOFF)
    h.ok(ExpectDropoff(CENTRAL, ApplicationNumber("D-1"), TAX, Size.S, good, h.wall_s + DAY))
    h.refused(
        ExpectDropoff(CENTRAL, ApplicationNumber("D-1"), TAX, Size.S, good, h.wall_s + DAY),
        "duplicate_application",
    )
    h.refused(
        ExpectDropoff(CENTRAL, ApplicationNumber("D-2"), TAX, Size.S, good, h.wall_s - 1),
        "invalid_deadline",
    )
    h.ok(Cancel(CENTRAL, ApplicationNumber("D-1")))
    assert h.s.dropoffs == ()


def test_every_refusal_names_the_central_operator() -> None:
    h = ready()
    actor = CentralActor("ops-7", "cmd-42")
    decision = h.refused(Cancel(actor, ApplicationNumber("x")), "unknown_application")
    assert decision.audit[0].actor == actor and decision.audit[0].action == "cancel"
