"""The SAM_V cycle without I/O: every step, the removal rule, retries, faults."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from locker_host.domain import Assurance, IdKind, Keyring
from locker_host.readers import CardPresented, FaultCode, ReaderFault, SamTiming
from locker_host.readers.sam_cycle import Exchange, Idle, SamCycle
from protocol import idcard

from . import numbers as n
from .numbers import assert_clean

KEYRING = Keyring({1: b"owner-secret-0123456789"}, current=1)
TIMING = SamTiming(poll_interval=0.5, sam_retry=3.0, read_attempts=3, silent_after=3)
S = idcard.StatusCode


def card(number: str) -> idcard.CardRead:
    record = idcard.ResidentCard(
        name="张测试",
        sex=idcard.Sex.FEMALE,
        nation="01",
        born=date(1949, 12, 31),
        address="河北省黄骅市",
        id_number=number,
        authority="黄骅市公安局",
        valid_from=date(2020, 1, 1),
        valid_until=None,
    )
    return idcard.CardRead(record, bytes(1024), None)


def status(code: S) -> idcard.StatusReply:
    return idcard.StatusReply(code)


SAM_ID = idcard.SamIdRead(
    bytes([5, 0, 1, 0]) + (20101224).to_bytes(4, "little") + bytes(4) + (42).to_bytes(4, "little")
)
FOUND = idcard.CardFound(bytes(4))
SELECTED = idcard.CardSelected(bytes(8))
TIMEOUT = idcard.ReaderFault(idcard.ReaderFaultKind.TIMEOUT, "no reply")


class Driver:
    """Runs the cycle with a clock that jumps to each deadline."""

    def __init__(self) -> None:
        self.now = 0.0
        self.cycle = SamCycle(KEYRING, TIMING, source="idcard", now=0.0, wire_time=0.1)
        self.sent: list[idcard.Command] = []

    def step(self, outcome: idcard.Reply | idcard.ReaderFault) -> list[object]:
        action = self.cycle.next_action(self.now)
        if isinstance(action, Idle):
            self.now = action.until
            action = self.cycle.next_action(self.now)
        assert isinstance(action, Exchange)
        self.sent.append(action.command)
        return list(self.cycle.on_outcome(outcome, self.now))

    def ready(self) -> None:
        assert self.step(status(S.SUCCESS)) == []
        if self.cycle.sam_id is None and self.sent.count(idcard.CheckSam()) == 1:
            assert self.step(SAM_ID) == []  # asked once, after the first good check
        assert self.cycle.healthy


def test_check_find_select_read_gives_one_strong_card() -> None:
    d = Driver()
    d.ready()
    assert d.step(status(S.NO_CARD)) == []
    assert d.step(FOUND) == []
    assert d.step(SELECTED) == []
    (reading,) = d.step(card(n.RESIDENT))
    assert d.sent == [
        idcard.CheckSam(),
        idcard.ReadSamId(),
        idcard.FindCard(),
        idcard.FindCard(),
        idcard.SelectCard(),
        idcard.ReadCard(),
    ]
    assert isinstance(reading, CardPresented)
    assert reading.credential.assurance is Assurance.STRONG
    assert reading.id_kind is IdKind.RESIDENT and reading.masked == "110105********002X"
    assert_clean(reading)


def test_the_read_timeout_includes_the_replys_wire_time() -> None:
    d = Driver()
    d.ready()
    d.step(FOUND)
    d.step(SELECTED)
    action = d.cycle.next_action(d.now)
    assert action == Exchange(idcard.ReadCard(), TIMING.read_timeout + 0.1)


def test_the_same_card_counts_again_only_after_a_no_card() -> None:
    d = Driver()
    d.ready()
    d.step(FOUND)
    d.step(SELECTED)
    assert len(d.step(card(n.RESIDENT))) == 1
    for _ in range(5):  # it lies there: found, found, found ... never selected
        assert d.step(FOUND) == []
    assert d.sent[-5:] == [idcard.FindCard()] * 5
    assert d.step(status(S.NO_CARD)) == []
    d.now += TIMING.repeat_hold  # gone for longer than the hold: a new placement
    d.step(FOUND)
    d.step(SELECTED)
    assert len(d.step(card(n.RESIDENT))) == 1


def test_polls_wait_the_interval_and_select_read_follow_at_once() -> None:
    d = Driver()
    d.ready()
    d.step(status(S.NO_CARD))
    assert d.cycle.next_action(d.now) == Idle(d.now + TIMING.poll_interval)
    d.step(FOUND)
    assert isinstance(d.cycle.next_action(d.now), Exchange)  # select at once


def test_a_failing_read_asks_at_once_then_retries_silently_while_the_card_stays() -> None:
    d = Driver()
    d.ready()
    out: list[object] = []
    for attempt in range(TIMING.read_attempts):
        d.step(FOUND)
        d.step(SELECTED)
        failed = d.step(status(S.READ_FAILED))
        assert len(failed) == (1 if attempt == 0 else 0)  # the first failure asks at once
        out += failed
    (fault,) = out
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.READ_FAILED
    assert "0x41 READ_FAILED" in fault.message and "place it again" in fault.message
    assert d.step(FOUND) == [] and d.step(FOUND) == []  # now the card must go first
    assert d.sent[-2:] == [idcard.FindCard(), idcard.FindCard()]
    assert d.cycle.counters["read_retries"] == TIMING.read_attempts - 1


def test_a_garbled_text_block_is_a_card_not_valid_and_the_card_must_go() -> None:
    d = Driver()
    d.ready()
    d.step(FOUND)
    d.step(SELECTED)
    bad = idcard.ReaderFault(
        idcard.ReaderFaultKind.BAD_TEXT, "resident card, born: not YYYYMMDD", bytes(10)
    )
    (fault,) = d.step(bad)
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.CARD_NOT_VALID
    assert d.cycle.healthy
    assert d.step(FOUND) == [] and d.sent[-1] == idcard.FindCard()


def test_an_invalid_number_on_the_card_is_not_valid_and_the_card_must_go() -> None:
    d = Driver()
    d.ready()
    d.step(FOUND)
    d.step(SELECTED)
    (fault,) = d.step(card(n.BAD_CHECK))
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.CARD_NOT_VALID
    assert "110105********0021" in fault.message
    assert_clean(fault)
    assert d.step(FOUND) == [] and d.step(FOUND) == []


def test_a_sam_that_refuses_is_unavailable_and_checked_again_later() -> None:
    d = Driver()
    (fault,) = d.step(status(S.SELF_TEST_FAILED))
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.SAM_UNAVAILABLE
    assert not d.cycle.healthy
    assert d.cycle.next_action(d.now) == Idle(d.now + TIMING.sam_retry)
    d.ready()
    (again,) = d.step(status(S.SAM_NOT_AUTHORISED))  # during a find
    assert again.code is FaultCode.SAM_UNAVAILABLE  # type: ignore[union-attr]
    assert d.step(status(S.SUCCESS)) == [] and d.sent[-1] == idcard.CheckSam()


def test_a_reader_that_stops_answering_is_silent_until_it_answers() -> None:
    d = Driver()
    d.ready()
    assert d.step(TIMEOUT) == [] and d.step(TIMEOUT) == []
    (fault,) = d.step(TIMEOUT)
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.READER_SILENT
    assert not d.cycle.healthy
    assert d.step(TIMEOUT) == []  # said once
    assert d.step(status(S.NO_CARD)) == [] and d.cycle.healthy


OUTCOMES = st.sampled_from(
    [
        status(S.SUCCESS),
        status(S.NO_CARD),
        status(S.SELECT_FAILED),
        status(S.READ_FAILED),
        status(S.SELF_TEST_FAILED),
        status(S.CARD_FOUND),
        idcard.StatusReply(idcard.UnknownStatus(0x55)),
        FOUND,
        SELECTED,
        TIMEOUT,
        card(n.RESIDENT),
        card(n.BAD_CHECK),
    ]
)


@given(st.lists(OUTCOMES, max_size=60))
def test_any_sequence_of_replies_never_reads_a_card_twice_without_a_no_card(
    outcomes: list[idcard.Reply | idcard.ReaderFault],
) -> None:
    d = Driver()
    cards_since_no_card = 0
    for outcome in outcomes:
        step = d.cycle.next_action(d.now)
        if isinstance(step, Idle):
            d.now = step.until
            step = d.cycle.next_action(d.now)
        assert isinstance(step, Exchange)
        readings = d.cycle.on_outcome(outcome, d.now)
        if isinstance(step.command, idcard.FindCard) and outcome == status(S.NO_CARD):
            cards_since_no_card = 0
        cards_since_no_card += sum(isinstance(r, CardPresented) for r in readings)
        assert cards_since_no_card <= 1
        if any(isinstance(r, CardPresented) for r in readings):
            assert isinstance(step.command, idcard.ReadCard)


def test_the_sam_id_is_read_once_and_shown_as_its_label() -> None:
    d = Driver()
    d.ready()
    assert d.cycle.sam_id == "05.01-20101224-0000000000-0000000042"
    assert d.sent == [idcard.CheckSam(), idcard.ReadSamId()]
    (fault,) = d.step(status(S.SELF_TEST_FAILED))  # during a find
    assert isinstance(fault, ReaderFault)
    d.ready()  # checked again: the id is not asked again
    assert d.sent[-2:] == [idcard.FindCard(), idcard.CheckSam()]
    assert d.step(status(S.NO_CARD)) == [] and d.sent[-1] == idcard.FindCard()


def test_a_reader_that_cannot_tell_its_sam_id_still_reads_cards() -> None:
    d = Driver()
    assert d.step(status(S.SUCCESS)) == []
    assert d.step(status(S.COMMAND_ERROR)) == [] and d.sent[-1] == idcard.ReadSamId()
    assert d.cycle.sam_id is None and d.cycle.healthy
    d.step(FOUND)
    d.step(SELECTED)
    (reading,) = d.step(card(n.RESIDENT))
    assert isinstance(reading, CardPresented)
