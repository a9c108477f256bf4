"""Flows 1 and 4: citizen drop-off and pickup, with their refusals."""

from __future__ import annotations

from locker_host.domain import (
    Assurance,
    BoardRead,
    CodePurpose,
    CompartmentState,
    ConfirmByHand,
    ExpectDropoff,
    ItemStage,
    Opening,
    Pickup,
    PulseLock,
    Purpose,
    Reserve,
    Size,
    StaffOpen,
    StartDropoff,
    dropoff_code,
)
from locker_host.domain.ids import ApplicationNumber, OpenId

from .helpers import (
    ALICE_ID,
    BOARD1,
    BOB_ID,
    CENTRAL,
    CODE_KEYS,
    DAY,
    PERMITS,
    TAX,
    Harness,
    card,
    clerk,
    code,
    digest,
    owner,
    reading,
    typed,
)


def ready() -> Harness:
    h = Harness()
    h.boards_online()
    return h


def dropoff(h: Harness, size: Size = Size.S, **kw: object) -> str:
    decision = h.ok(StartDropoff(card(ALICE_ID), TAX, size, **kw))  # type: ignore[arg-type]
    assert isinstance(decision.reply, Opening)
    return decision.reply.opens[0].compartment


# -- flow 1: drop-off ------------------------------------------------------------


def test_dropoff_deposits_a_dossier_and_issues_a_receipt() -> None:
    h = ready()
    decision = h.ok(StartDropoff(card(ALICE_ID), TAX, Size.S))
    [pulse] = [e for e in decision.effects if isinstance(e, PulseLock)]
    assert pulse.compartment == "A01"  # smallest, least worn, high slot first
    assert decision.audit[0].open_id == pulse.open_id and decision.audit[0].granted
    assert h.compartment("A01").state is CompartmentState.DROPOFF
    h.use("A01", item_after=True)
    [deposited] = [e for e in h.events() if e.name == "dossier.deposited"]
    assert deposited.receipt == "hh-L1-R0000001"  # type: ignore[union-attr]
    assert deposited.owner == owner(ALICE_ID)  # type: ignore[union-attr]
    c = h.compartment("A01")
    assert c.state is CompartmentState.OCCUPIED and c.open_id is None
    assert c.items[0].stage is ItemStage.HELD and c.items[0].confirmed
    assert c.items[0].deadline_wall_s == h.wall_s + h.config.policy.dossier_collection_sla_s


def test_one_visit_several_dossiers() -> None:
    h = ready()
    first = dropoff(h)
    h.use(first, item_after=True)
    second = dropoff(h)
    h.use(second, item_after=True)
    assert first != second
    assert h.event_names().count("dossier.deposited") == 2


def test_closed_empty_is_abandoned_and_the_compartment_freed() -> None:
    h = ready()
    cid = dropoff(h)
    h.use(cid, item_after=False)
    assert "dropoff.abandoned" in h.event_names()
    assert h.compartment(cid).state is CompartmentState.FREE
    assert h.compartment(cid).claim is None


def test_never_opened_releases_the_reservation_after_one_retry() -> None:
    h = ready()
    cid = dropoff(h)
    h.advance(h.config.policy.open_confirm_timeout_s)  # no door: read the board
    h.send(BoardRead(BOARD1, (reading(cid, False, False),)))  # still shut: one more pulse
    assert [type(e).__name__ for e in h.decisions[-1].effects] == ["PulseLock"]
    h.advance(h.config.policy.open_confirm_timeout_s)
    assert h.event_names()[-2:] == ["open.jammed", "dropoff.abandoned"]
    assert h.decisions[-1].events[-1].reason == "not_opened"  # type: ignore[union-attr]
    c = h.compartment(cid)
    assert c.state is CompartmentState.FAULTY and c.claim is None and c.open_id is None
    assert dropoff(h) != cid  # the next drop-off goes elsewhere


def test_accessible_slot_on_request() -> None:
    h = ready()
    assert dropoff(h, accessible=True) == "A02"


def test_no_free_compartment_of_that_size() -> None:
    h = ready()
    for _ in range(2):  # the two L compartments
        h.use(dropoff(h, Size.L), item_after=True)
    h.refused(StartDropoff(card(ALICE_ID), TAX, Size.L), "no_compartment_available")


def test_card_dropoff_needs_the_service_and_the_size() -> None:
    h = ready()
    h.refused(StartDropoff(card(ALICE_ID), None, Size.S), "missing_choice")
    h.refused(StartDropoff(card(ALICE_ID), TAX, None), "missing_choice")


def test_a_typed_id_number_may_drop_off() -> None:
    h = ready()
    h.ok(StartDropoff(typed(ALICE_ID), TAX, Size.S))


def test_dropoff_code_from_the_central_system_starts_a_dropoff() -> None:
    h = ready()
    expect = ExpectDropoff(
        CENTRAL,
        ApplicationNumber("APP-9"),
        PERMITS,
        Size.M,
        digest("7654321", CodePurpose.DROPOFF),
        h.wall_s + DAY,
    )
    h.ok(expect)
    h.refused(StartDropoff(code("7654321")), "invalid_pickup_code")  # a pickup code
    decision = h.ok(StartDropoff(dropoff_code(CODE_KEYS, "7654321")))
    cid = decision.reply.opens[0].compartment  # type: ignore[union-attr]
    assert cid == "A03"  # the size the central system asked for
    # The code is in use: a second person with the same code gets nothing.
    h.refused(StartDropoff(dropoff_code(CODE_KEYS, "7654321")), "wrong_code")
    h.use(cid, item_after=True)
    [deposited] = [e for e in h.events() if e.name == "dossier.deposited"]
    assert deposited.application == "APP-9"  # type: ignore[union-attr]
    assert deposited.department == PERMITS  # type: ignore[union-attr]
    assert h.s.dropoffs == ()  # used up


def test_an_abandoned_code_dropoff_keeps_the_code_usable() -> None:
    h = ready()
    h.ok(
        ExpectDropoff(
            CENTRAL,
            ApplicationNumber("APP-9"),
            TAX,
            Size.S,
            digest("7654321", CodePurpose.DROPOFF),
            h.wall_s + DAY,
        )
    )
    cid = h.ok(StartDropoff(dropoff_code(CODE_KEYS, "7654321"))).reply.opens[0].compartment  # type: ignore[union-attr]
    h.use(cid, item_after=False)
    h.ok(StartDropoff(dropoff_code(CODE_KEYS, "7654321")))


# -- flow 4: pickup ----------------------------------------------------------------


def loaded(
    h: Harness, application: str = "APP-1", who: str = ALICE_ID, pickup: str | None = None
) -> str:
    reply = h.ok(
        Reserve(
            CENTRAL,
            ApplicationNumber(application),
            owner(who),
            Size.S,
            TAX,
            h.wall_s + 7 * DAY,
            pickup_code=None if pickup is None else digest(pickup),
        )
    ).reply
    cid = reply.compartment  # type: ignore[union-attr]
    h.ok(StaffOpen(clerk(), Purpose.LOAD))
    h.use(cid, item_after=True)
    return cid


def test_pickup_by_card_opens_only_the_owners_compartments() -> None:
    h = ready()
    alice = loaded(h, "APP-1", ALICE_ID)
    bob = loaded(h, "APP-2", BOB_ID)
    decision = h.ok(Pickup(card(ALICE_ID)))
    assert [p.compartment for p in decision.effects if isinstance(p, PulseLock)] == [alice]
    h.use(alice, item_after=False)
    [collected] = [e for e in h.events() if e.name == "certificate.collected"]
    assert collected.application == "APP-1"  # type: ignore[union-attr]
    assert h.compartment(alice).state is CompartmentState.FREE
    assert h.compartment(bob).state is CompartmentState.OCCUPIED


def test_door_closed_with_the_item_inside_stays_theirs() -> None:
    h = ready()
    cid = loaded(h)
    h.ok(Pickup(card(ALICE_ID)))
    h.use(cid, item_after=True)
    assert "certificate.not_taken" in h.event_names()
    assert h.compartment(cid).items[0].stage is ItemStage.HELD
    h.ok(Pickup(card(ALICE_ID)))  # and may come back


def test_an_unknown_card_gets_an_audited_nothing_for_you() -> None:
    h = ready()
    loaded(h)
    decision = h.refused(Pickup(card(BOB_ID)), "nothing_for_you")
    assert decision.audit[0].actor.owner == owner(BOB_ID)  # type: ignore[union-attr]


def test_a_typed_id_number_alone_never_opens() -> None:
    h = ready()
    loaded(h, pickup="24681357")
    h.refused(Pickup(typed(ALICE_ID)), "pickup_code_required")


def test_a_typed_id_number_with_the_code_opens() -> None:
    h = ready()
    cid = loaded(h, pickup="24681357")
    decision = h.ok(Pickup(typed(ALICE_ID, "24681357")))
    assert decision.reply.opens[0].compartment == cid  # type: ignore[union-attr]
    assert decision.audit[0].actor.assurance is Assurance.WEAK  # type: ignore[union-attr]


def test_a_typed_id_number_with_someone_elses_code_does_not_open() -> None:
    h = ready()
    loaded(h, "APP-1", ALICE_ID, pickup="24681357")
    loaded(h, "APP-2", BOB_ID, pickup="11223344")
    h.refused(Pickup(typed(ALICE_ID, "11223344")), "wrong_code")


def test_a_proxy_with_the_pickup_code_collects() -> None:
    h = ready()
    cid = loaded(h, pickup="24681357")
    h.ok(Pickup(code("24681357")))
    h.use(cid, item_after=False)
    [collected] = [e for e in h.events() if e.name == "certificate.collected"]
    assert collected.with_code  # type: ignore[union-attr]


def test_wrong_codes_lock_the_locker_out_then_it_recovers() -> None:
    h = ready()
    loaded(h, pickup="24681357")
    policy = h.config.policy
    for _ in range(policy.code_max_failures):
        h.refused(Pickup(code("99999999")), "wrong_code")
    assert "code_entry.locked_out" in h.event_names()
    h.refused(Pickup(code("24681357")), "code_locked_out")  # even the right one, for a while
    h.mono_s += policy.code_lockout_s
    h.ok(Pickup(code("24681357")))


def test_typed_id_wrong_codes_lock_that_owner_out() -> None:
    h = ready()
    loaded(h, "APP-1", ALICE_ID, pickup="24681357")
    loaded(h, "APP-2", BOB_ID, pickup="11223344")
    for _ in range(h.config.policy.code_max_failures_per_owner):
        h.refused(Pickup(typed(ALICE_ID, "99999999")), "wrong_code")
    h.refused(Pickup(typed(ALICE_ID, "24681357")), "code_locked_out")
    h.ok(Pickup(typed(BOB_ID, "11223344")))  # others are not affected


def test_a_strong_card_still_opens_while_codes_are_locked_out() -> None:
    h = ready()
    loaded(h, pickup="24681357")
    for _ in range(h.config.policy.code_max_failures):
        h.send(Pickup(code("99999999")))
    h.ok(Pickup(card(ALICE_ID)))


def test_a_dropoff_code_does_not_pick_up() -> None:
    h = ready()
    loaded(h, pickup="24681357")
    h.refused(Pickup(dropoff_code(CODE_KEYS, "24681357")), "invalid_pickup_code")


def test_an_open_under_way_is_reported_unavailable_not_reopened() -> None:
    h = ready()
    loaded(h)
    h.ok(Pickup(card(ALICE_ID)))
    h.refused(Pickup(card(ALICE_ID)), "compartment_unavailable")


# -- by-hand confirmation (degraded compartments) -------------------------------------


def test_confirm_by_hand_only_by_the_same_person() -> None:
    h = ready()
    cid = dropoff(h)
    open_id = h.compartment(cid).open_id
    assert open_id is not None
    h.refused(ConfirmByHand(open_id, card(BOB_ID), True), "not_authorised")
    h.refused(ConfirmByHand(open_id, card(ALICE_ID), True), "invalid_transition")  # not open yet
    h.door(cid, opened=True)
    h.refused(ConfirmByHand(open_id, card(ALICE_ID), True), "compartment_busy")  # door open
    h.refused(ConfirmByHand(OpenId("nope"), card(ALICE_ID), True), "unknown_open")
