"""Flows 7 and 8: physical truth, restart reconciliation, and the degraded
compartments (no door switch, no item sensor)."""

from __future__ import annotations

import pytest

from locker_host.domain import (
    BoardRead,
    BoardStatus,
    BoardUnreachable,
    CompartmentState,
    ConfirmByHand,
    DoorReading,
    FaultReason,
    ItemReading,
    Layout,
    OpenState,
    Outcome,
    Pickup,
    PulseLock,
    PulseNotAcknowledged,
    Purpose,
    ReadBoard,
    Reserve,
    Restarted,
    Size,
    StaffOpen,
    StartDropoff,
)
from locker_host.domain.ids import ApplicationNumber, CompartmentId, OpenId

from .helpers import (
    ALICE_ID,
    BOARD1,
    BOARD3,
    BOB_ID,
    CENTRAL,
    DAY,
    TAX,
    Harness,
    card,
    clerk,
    config,
    owner,
    reading,
    standard_layout,
)


def ready(layout: Layout | None = None) -> Harness:
    h = Harness(config(layout))
    h.boards_online()
    return h


def start(h: Harness, size: Size = Size.S) -> str:
    return h.ok(StartDropoff(card(ALICE_ID), TAX, size)).reply.opens[0].compartment  # type: ignore[union-attr]


def the_open(h: Harness, cid: str):  # type: ignore[no-untyped-def]
    return h.s.opens[h.compartment(cid).open_id]  # type: ignore[index]


# -- open outcomes -------------------------------------------------------------------


def test_unlock_acknowledged_is_not_door_opened() -> None:
    h = ready()
    cid = start(h)
    assert the_open(h, cid).state is OpenState.PULSED and the_open(h, cid).outcome is None
    h.door(cid, opened=True)
    assert the_open(h, cid).outcome is Outcome.OPENED
    assert h.event_names()[-1] == "open.opened"


def test_already_open_still_pulses() -> None:
    h = ready()
    h.send(BoardRead(BOARD1, (reading("A01", True, False),)))
    assert h.compartment("A01").state is CompartmentState.FAULTY  # forced: it was shut
    h = Harness()
    h.send(BoardRead(BOARD1, tuple(reading(f"A0{i}", i == 1, False) for i in range(1, 5))))
    assert h.compartment("A01").state is CompartmentState.FREE  # reconciled, not forced
    for board in h.config.layout.boards()[1:]:
        h.send(BoardRead(board, ()))
    decision = h.ok(StartDropoff(card(ALICE_ID), TAX, Size.S))
    assert any(isinstance(e, PulseLock) and e.compartment == "A01" for e in decision.effects)
    assert the_open(h, "A01").outcome is Outcome.ALREADY_OPEN


def test_jammed_after_one_retry_then_fault() -> None:
    h = ready()
    cid = start(h)
    timeout = h.config.policy.open_confirm_timeout_s
    [read] = h.advance(timeout).effects
    assert isinstance(read, ReadBoard) and read.board == BOARD1
    h.send(BoardRead(BOARD1, (reading(cid, False, False),)))
    assert the_open(h, cid).state is OpenState.RETRIED
    h.advance(timeout)
    c = h.compartment(cid)
    assert c.state is CompartmentState.FAULTY and c.faults == (FaultReason.JAMMED,)
    assert c.pulse_count == 2  # exactly one retry


def test_the_retry_pulse_may_still_open_the_door() -> None:
    h = ready()
    cid = start(h)
    h.advance(h.config.policy.open_confirm_timeout_s)
    h.send(BoardRead(BOARD1, (reading(cid, False, False),)))
    h.door(cid, opened=True)
    assert the_open(h, cid).outcome is Outcome.OPENED
    h.door(cid, opened=False, item=True)
    assert h.event_names()[-1] == "dossier.deposited"


def test_a_read_showing_the_door_open_completes_the_open() -> None:
    h = ready()
    cid = start(h)
    h.advance(h.config.policy.open_confirm_timeout_s)
    h.send(BoardRead(BOARD1, (reading(cid, True, False),)))
    assert the_open(h, cid).state is OpenState.OPEN


def test_an_open_and_close_between_two_polls_is_a_full_cycle() -> None:
    h = ready()
    cid = start(h)
    # The bus reports latched changes as discrete observations, in order.
    h.door(cid, opened=True)
    h.door(cid, opened=False, item=True)
    assert h.event_names()[-1] == "dossier.deposited"


def test_a_pulse_not_acknowledged_ends_unknown_and_never_repeats() -> None:
    h = ready()
    cid = start(h)
    open_id = h.compartment(cid).open_id
    decision = h.send(PulseNotAcknowledged(open_id))  # type: ignore[arg-type]
    assert not decision.effects
    assert h.event_names()[-2:] == ["open.outcome_unknown", "dropoff.abandoned"]
    assert h.compartment(cid).faults == (FaultReason.OUTCOME_UNKNOWN,)


# -- alarms --------------------------------------------------------------------------


def test_door_opened_without_unlock_is_forced() -> None:
    h = ready()
    h.door("B01", opened=True)
    assert h.event_names() == ["door.forced"]
    assert h.decisions[-1].audit[0].action == "forced"
    assert h.compartment("B01").state is CompartmentState.FAULTY
    h.door("B01", opened=True)  # the same fact again: one alarm
    assert h.event_names() == ["door.forced"]


def test_door_ajar_once_per_opening() -> None:
    h = ready()
    cid = start(h)
    h.door(cid, opened=True)
    h.advance(h.config.policy.door_ajar_timeout_s)
    assert h.event_names()[-1] == "door.ajar"
    assert the_open(h, cid).state is OpenState.OPEN  # the open goes on
    h.advance(h.config.policy.door_ajar_timeout_s)
    assert h.event_names().count("door.ajar") == 1
    h.door(cid, opened=False, item=True)
    assert h.event_names()[-1] == "dossier.deposited"


def test_item_appearing_in_a_free_compartment_is_unexpected() -> None:
    h = ready()
    h.item("B02", True)
    assert h.event_names() == ["item.unexpected"]
    assert h.compartment("B02").faults == (FaultReason.UNEXPECTED_ITEM,)
    assert start(h, Size.M) != "B02"


def test_item_vanishing_from_a_closed_compartment_is_missing_and_kept_on_record() -> None:
    h = ready()
    cid = start(h)
    h.use(cid, item_after=True)
    h.item(cid, False)
    assert h.event_names()[-1] == "item.missing"
    c = h.compartment(cid)
    assert c.state is CompartmentState.FAULTY and len(c.items) == 1


def test_items_moving_while_an_open_is_under_way_are_no_alarm() -> None:
    h = ready()
    cid = start(h)
    h.door(cid, opened=True)
    h.item(cid, True)
    h.item(cid, False)
    assert "item.unexpected" not in h.event_names()


# -- boards and restart ----------------------------------------------------------------


def test_board_offline_makes_compartments_unknown_and_ends_opens() -> None:
    h = ready()
    cid = start(h)
    h.send(BoardUnreachable(BOARD1))
    assert h.event_names()[:2] == ["board.offline", "open.outcome_unknown"]
    for spec in h.config.layout.on_board(BOARD1):
        assert h.compartment(spec.id).physical.door is DoorReading.UNKNOWN
    assert h.s.boards[BOARD1.key] is BoardStatus.OFFLINE
    h.send(BoardUnreachable(BOARD1))
    assert h.event_names().count("board.offline") == 1
    h.send(
        BoardRead(
            BOARD1, tuple(reading(s.id, False, False) for s in h.config.layout.on_board(BOARD1))
        )
    )
    assert h.event_names()[-1] == "board.online"
    assert h.compartment(cid).state is CompartmentState.FAULTY  # staff look at it


def test_board_back_reconciles_items_against_the_records() -> None:
    h = ready()
    cid = start(h)
    h.use(cid, item_after=True)
    h.send(BoardUnreachable(BOARD1))
    h.send(BoardRead(BOARD1, (reading(cid, False, False), reading("A03", False, True))))
    names = h.event_names()
    assert "item.missing" in names and "item.unexpected" in names
    assert "door.forced" not in names


def test_restart_opens_nothing_and_reports_unknown_outcomes() -> None:
    h = ready()
    cid = start(h)
    h.door(cid, opened=True)
    decision = h.send(Restarted())
    assert not decision.effects
    assert h.event_names()[-3:] == ["open.outcome_unknown", "dropoff.abandoned", "locker.restarted"]
    assert h.s.opens == {}
    assert all(b is BoardStatus.UNKNOWN for b in h.s.boards.values())
    assert all(c.physical.door is DoorReading.UNKNOWN for c in h.s.compartments.values())
    # Not read since the restart: not "full", but "not yet", for citizens and the centre alike.
    h.refused(StartDropoff(card(ALICE_ID), TAX, Size.S), "boards_not_ready")
    application = ApplicationNumber("APP-9")
    reserve = Reserve(CENTRAL, application, owner(BOB_ID), Size.S, TAX, h.wall_s + DAY)
    h.refused(reserve, "boards_not_ready")
    h.boards_online()
    h.ok(StartDropoff(card(ALICE_ID), TAX, Size.S))


def test_boards_given_up_on_leave_no_compartment_not_boards_not_ready() -> None:
    h = Harness()  # just started: no board read yet
    boards = list(h.config.layout.boards())
    for board in boards:
        h.send(BoardUnreachable(board))
    h.refused(StartDropoff(card(ALICE_ID), TAX, Size.S), "no_compartment_available")
    h.boards_online()
    for board in boards[1:]:
        h.send(BoardUnreachable(board))
    h.ok(StartDropoff(card(ALICE_ID), TAX, Size.S))  # the first board's compartments


def test_restart_keeps_held_items_and_their_owner() -> None:
    h = ready()
    cid = h.ok(
        Reserve(CENTRAL, ApplicationNumber("APP-1"), owner(BOB_ID), Size.S, TAX, h.wall_s + 7 * DAY)
    ).reply.compartment  # type: ignore[union-attr]
    h.ok(StaffOpen(clerk(), Purpose.LOAD))
    h.use(cid, item_after=True)
    h.send(Restarted())
    h.mono_s = 5.0  # the monotonic clock starts again
    for board in h.config.layout.boards():
        on_board = h.config.layout.on_board(board)
        h.send(BoardRead(board, tuple(reading(s.id, False, s.id == cid) for s in on_board)))
    assert "item.missing" not in h.event_names()
    h.ok(Pickup(card(BOB_ID)))


def test_observations_about_unknown_things_are_audited_not_raised() -> None:
    h = ready()
    decision = h.door("Z99", opened=True)
    assert decision.audit[0].action == "unmatched_observation"
    decision = h.send(PulseNotAcknowledged(OpenId("gone")))
    assert decision.audit[0].action == "unmatched_observation"
    h.send(BoardRead(BOARD1, (reading("B01", True, True),)))  # B01 is not on board 1
    assert h.compartment("B01").physical.door is DoorReading.CLOSED


# -- degraded compartments ------------------------------------------------------------------

DEGRADED = Layout(tuple(s for s in standard_layout() if s.wiring.board == BOARD3))


NO_DOOR_SWITCH = Layout(tuple(s for s in DEGRADED if s.id == "C02"))
NO_ITEM_SENSOR = Layout(tuple(s for s in DEGRADED if s.id == "C01"))


def test_no_door_switch_assumes_open_and_waits_for_the_person() -> None:
    h = ready(NO_DOOR_SWITCH)
    decision = h.ok(StartDropoff(card(ALICE_ID), TAX, Size.M))
    cid = decision.reply.opens[0].compartment  # type: ignore[union-attr]
    open_ = the_open(h, cid)
    assert open_.state is OpenState.OPEN and open_.outcome is Outcome.ASSUMED_OPEN
    h.item(cid, True)
    h.ok(ConfirmByHand(open_.open_id, card(ALICE_ID), False))  # the sensor beats the answer
    assert h.event_names()[-1] == "dossier.deposited"


def test_no_door_switch_and_nobody_confirms_applies_the_default() -> None:
    h = ready(NO_DOOR_SWITCH)
    cid = h.ok(StartDropoff(card(ALICE_ID), TAX, Size.M)).reply.opens[0].compartment  # type: ignore[union-attr]
    h.advance(h.config.policy.hand_confirm_timeout_s)
    deposited = h.events()[-1]
    assert deposited.name == "dossier.deposited" and not deposited.confirmed  # type: ignore[union-attr]
    assert not h.compartment(cid).items[0].confirmed


def test_no_door_switch_means_no_forced_door_alarm() -> None:
    h = ready(NO_DOOR_SWITCH)
    h.send(BoardRead(BOARD3, (reading("C02", None, True),)))
    assert "door.forced" not in h.event_names()


@pytest.mark.parametrize(
    ("answer", "expected"), [(True, "dossier.deposited"), (False, "dropoff.abandoned")]
)
def test_no_item_sensor_asks_the_person_at_close(answer: bool, expected: str) -> None:
    h = ready(NO_ITEM_SENSOR)
    cid = h.ok(StartDropoff(card(ALICE_ID), TAX, Size.M)).reply.opens[0].compartment  # type: ignore[union-attr]
    h.door(cid, opened=True)
    h.door(cid, opened=False)
    open_ = the_open(h, cid)
    assert open_.state is OpenState.AWAITING_CONFIRMATION
    h.ok(ConfirmByHand(open_.open_id, card(ALICE_ID), answer))
    assert h.event_names()[-1] == expected
    assert h.compartment(cid).physical.item is ItemReading.UNKNOWN


@pytest.mark.parametrize(
    ("purpose_setup", "default_event"),
    [("pickup", "certificate.not_taken"), ("load", "certificate.load_failed")],
)
def test_no_item_sensor_defaults_keep_the_records(purpose_setup: str, default_event: str) -> None:
    h = ready(NO_ITEM_SENSOR)
    cid = h.ok(
        Reserve(CENTRAL, ApplicationNumber("APP-1"), owner(BOB_ID), Size.S, TAX, h.wall_s + 7 * DAY)
    ).reply.compartment  # type: ignore[union-attr]
    h.ok(StaffOpen(clerk(), Purpose.LOAD))
    if purpose_setup == "pickup":
        h.door(cid, opened=True)
        h.door(cid, opened=False)
        h.ok(ConfirmByHand(the_open(h, cid).open_id, clerk(), True))
        h.ok(Pickup(card(BOB_ID)))
    h.door(cid, opened=True)
    h.door(cid, opened=False)
    before = h.compartment(cid).items
    h.advance(h.config.policy.hand_confirm_timeout_s)
    assert h.event_names()[-1] == default_event
    assert h.compartment(cid).items == before


def test_restart_while_waiting_for_a_person_applies_the_default() -> None:
    h = ready(NO_ITEM_SENSOR)
    cid = h.ok(StartDropoff(card(ALICE_ID), TAX, Size.M)).reply.opens[0].compartment  # type: ignore[union-attr]
    h.door(cid, opened=True)
    h.door(cid, opened=False)
    h.send(Restarted())
    assert "dossier.deposited" in h.event_names()
    assert CompartmentId(cid) in h.s.compartments
