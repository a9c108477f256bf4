"""Alarms read from the state, and their acknowledgement (alarms.py, acknowledge.py)."""

from __future__ import annotations

from locker_host.domain import (
    AcknowledgeAlarm,
    AlarmKind,
    BoardRead,
    BoardUnreachable,
    CentralActor,
    CompartmentId,
    SetService,
    Size,
    StartDropoff,
    active_alarms,
    alarm_id,
    state_from_dict,
    state_to_dict,
)

from .helpers import ALICE_ID, BOARD1, TAX, Harness, card, config, reading

OPS = CentralActor("http:ops")


def ready() -> Harness:
    h = Harness(config())
    h.boards_online()
    return h


def ids(h: Harness) -> list[str]:
    return [a.alarm_id for a in active_alarms(h.s)]


def test_a_quiet_locker_has_no_alarm() -> None:
    assert active_alarms(ready().s) == ()


def test_a_forced_door_is_an_alarm_named_by_kind_and_compartment() -> None:
    h = ready()
    h.door("B01", opened=True)
    (alarm,) = active_alarms(h.s)
    assert alarm.alarm_id == "door.forced@B01" == alarm_id(AlarmKind.DOOR_FORCED, "B01")
    assert alarm.compartment == "B01" and alarm.board is None and alarm.acknowledged is None


def test_a_door_left_open_is_an_ajar_alarm_until_it_closes() -> None:
    h = ready()
    cid = h.ok(StartDropoff(card(ALICE_ID), TAX, Size.S)).reply.opens[0].compartment  # type: ignore[union-attr]
    h.door(cid, opened=True)
    assert ids(h) == []
    h.advance(h.config.policy.door_ajar_timeout_s)
    assert ids(h) == [f"door.ajar@{cid}"]
    h.door(cid, opened=False, item=True)
    assert ids(h) == []


def test_an_offline_board_is_an_alarm_whose_id_fits_a_url_segment() -> None:
    h = ready()
    h.send(BoardUnreachable(BOARD1))
    board_alarms = [a for a in active_alarms(h.s) if a.kind is AlarmKind.BOARD_OFFLINE]
    assert [a.board for a in board_alarms] == [BOARD1.key]
    assert "/" not in board_alarms[0].alarm_id


def test_acknowledging_records_who_and_keeps_the_alarm() -> None:
    h = ready()
    h.door("B01", opened=True)
    decision = h.ok(AcknowledgeAlarm(OPS, "door.forced@B01"))
    (alarm,) = active_alarms(h.s)
    assert alarm.acknowledged is not None
    assert alarm.acknowledged.by == "central:http:ops"
    assert alarm.acknowledged.at_wall_s == h.wall_s
    assert [(r.action, r.granted, r.compartment) for r in decision.audit] == [
        ("acknowledge_alarm", True, "B01")
    ]
    assert decision.events == ()  # nothing for the central system: it changes nothing physical


def test_a_second_acknowledgement_keeps_the_first() -> None:
    h = ready()
    h.door("B01", opened=True)
    h.ok(AcknowledgeAlarm(OPS, "door.forced@B01"))
    first = h.s.alarm_acks["door.forced@B01"]
    h.advance(60)
    decision = h.ok(AcknowledgeAlarm(CentralActor("http:other"), "door.forced@B01"))
    assert h.s.alarm_acks["door.forced@B01"] == first
    assert decision.audit == ()


def test_an_unknown_or_cleared_alarm_is_refused_and_audited() -> None:
    h = ready()
    h.refused(AcknowledgeAlarm(OPS, "door.forced@B01"), "unknown_alarm")


def test_an_acknowledgement_ends_with_its_alarm_so_a_new_occurrence_is_unacknowledged() -> None:
    h = ready()
    h.door("B01", opened=True)
    h.ok(AcknowledgeAlarm(OPS, "door.forced@B01"))
    h.door("B01", opened=False, item=False)
    h.ok(SetService(OPS, CompartmentId("B01"), True, "checked, nothing taken"))
    assert ids(h) == [] and dict(h.s.alarm_acks) == {}
    h.door("B01", opened=True)
    (alarm,) = active_alarms(h.s)
    assert alarm.acknowledged is None


def test_a_board_alarm_clears_when_the_board_answers_and_takes_its_ack() -> None:
    h = ready()
    h.send(BoardUnreachable(BOARD1))
    board_alarm = next(a for a in ids(h) if a.startswith("board.offline@"))
    h.ok(AcknowledgeAlarm(OPS, board_alarm))
    readings = tuple(reading(s.id, False, False) for s in h.config.layout.on_board(BOARD1))
    h.send(BoardRead(BOARD1, readings))
    assert board_alarm not in ids(h)
    assert board_alarm not in h.s.alarm_acks


def test_acknowledgements_survive_the_state_document() -> None:
    h = ready()
    h.door("B01", opened=True)
    h.ok(AcknowledgeAlarm(OPS, "door.forced@B01"))
    assert state_from_dict(state_to_dict(h.s)) == h.s


def test_a_state_document_from_before_acknowledgements_loads_without_any() -> None:
    h = ready()
    document = state_to_dict(h.s)
    del document["state"]["alarm_acks"]  # type: ignore[call-overload]
    assert dict(state_from_dict(document).alarm_acks) == {}
