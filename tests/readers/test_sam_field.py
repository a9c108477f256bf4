"""The SAM cycle against readers as they are in the field (issue 17, items 3-5).

A failed read is said at once (the citizen must place the card again), a
sloppy reader is never taken for a silent one, and a card resting on a
reader that answers 80 and 9F by turns is read once per placement.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from locker_host.readers import CardPresented, FaultCode, ReaderFault
from locker_host.readers.sam_cycle import Exchange, Idle
from protocol import idcard

from . import numbers as n
from .test_sam_cycle import FOUND, SELECTED, TIMEOUT, TIMING, Driver, S, card, status

NO_CARD = status(S.NO_CARD)
GARBLED = idcard.ReaderFault(idcard.ReaderFaultKind.BAD_CHECKSUM, "XOR", bytes(10))


def codes(readings: list[object]) -> list[FaultCode]:
    return [r.code for r in readings if isinstance(r, ReaderFault)]


def test_find_select_read_41_then_no_card_is_not_silent() -> None:
    # Huashi: after a read error the card must be removed and placed again; the
    # reader answers 80 until then. This sequence used to give nothing at all.
    d = Driver()
    d.ready()
    assert d.step(FOUND) == [] and d.step(SELECTED) == []
    (fault,) = d.step(status(S.READ_FAILED))
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.READ_FAILED
    for _ in range(10):
        assert d.step(NO_CARD) == []
    assert d.cycle.healthy


def test_a_select_that_fails_after_a_find_asks_to_place_the_card_again() -> None:
    d = Driver()
    d.ready()
    d.step(FOUND)
    assert codes(d.step(status(S.SELECT_FAILED))) == [FaultCode.READ_FAILED]


def test_a_read_that_times_out_asks_again_and_never_makes_the_reader_silent() -> None:
    d = Driver()
    d.ready()
    seen: list[FaultCode] = []
    for _ in range(3 * TIMING.silent_after):
        d.step(FOUND)
        d.step(SELECTED)
        seen += codes(d.step(TIMEOUT))
        seen += codes(d.step(NO_CARD))  # lifted
        d.now += TIMING.repeat_hold + 1  # and placed again later
    assert FaultCode.READER_SILENT not in seen
    assert seen == [FaultCode.READ_FAILED] * (3 * TIMING.silent_after)
    assert d.cycle.healthy


def test_garbled_replies_are_counted_never_silent() -> None:
    d = Driver()
    d.ready()
    for _ in range(10 * TIMING.silent_after):
        assert d.step(GARBLED) == []
    assert d.cycle.healthy
    assert d.cycle.counters["garbled_replies"] == 10 * TIMING.silent_after


def test_odd_sizes_and_junk_are_counted_and_the_card_is_read() -> None:
    d = Driver()
    d.ready()
    assert d.step(idcard.StatusReply(S.NO_CARD, junk=b"\x00")) == []
    assert d.step(idcard.CardFound(bytes(2))) == []
    assert d.step(idcard.CardSelected(bytes(4))) == []
    (reading,) = d.step(card(n.RESIDENT))
    assert isinstance(reading, CardPresented)
    assert d.cycle.counters["odd_data_sizes"] == 3


def test_a_card_resting_on_a_reader_answering_80_and_9f_by_turns_is_read_once() -> None:
    d = Driver()
    d.ready()
    presented = 0
    for _ in range(20):
        d.step(FOUND)
        d.step(SELECTED)
        presented += sum(isinstance(r, CardPresented) for r in d.step(card(n.RESIDENT)))
        d.step(NO_CARD)  # the reader's "no card" while the card still lies there
    assert presented == 1
    assert d.cycle.counters["repeats_dropped"] == 19


def test_another_card_is_read_at_once_and_the_same_one_after_the_hold() -> None:
    d = Driver()
    d.ready()
    for number, expected in ((n.RESIDENT, 1), (n.PERMIT_HK, 1), (n.PERMIT_HK, 0)):
        d.step(FOUND)
        d.step(SELECTED)
        assert len(d.step(card(number))) == expected
        d.step(NO_CARD)
    d.now += TIMING.repeat_hold + 0.1
    d.step(NO_CARD)
    d.step(FOUND)
    d.step(SELECTED)
    assert len(d.step(card(n.PERMIT_HK))) == 1


def test_a_card_not_valid_on_a_reader_answering_by_turns_is_said_once() -> None:
    d = Driver()
    d.ready()
    seen: list[FaultCode] = []
    for _ in range(10):
        d.step(FOUND)
        d.step(SELECTED)
        seen += codes(d.step(card(n.BAD_DATE)))
        d.step(NO_CARD)
    assert seen == [FaultCode.CARD_NOT_VALID]


def test_a_failing_card_on_a_reader_answering_by_turns_asks_once() -> None:
    d = Driver()
    d.ready()
    seen: list[FaultCode] = []
    for _ in range(10):
        d.step(FOUND)
        d.step(SELECTED)
        seen += codes(d.step(status(S.READ_FAILED)))
        d.step(NO_CARD)
    assert seen == [FaultCode.READ_FAILED]


OUTCOMES = st.sampled_from(
    [
        status(S.SUCCESS),
        NO_CARD,
        status(S.SELECT_FAILED),
        status(S.READ_FAILED),
        idcard.StatusReply(S.NO_CARD, junk=b"\x01"),
        FOUND,
        idcard.CardFound(b""),
        SELECTED,
        idcard.CardSelected(bytes(9)),
        GARBLED,
        card(n.RESIDENT),
        card(n.BAD_CHECK),
    ]
)


@given(st.lists(OUTCOMES, max_size=80))
def test_a_reader_that_answers_anything_is_never_silent(outcomes: list[object]) -> None:
    d = Driver()
    d.ready()
    for outcome in outcomes:
        step = d.cycle.next_action(d.now)
        if isinstance(step, Idle):
            d.now = step.until
            step = d.cycle.next_action(d.now)
        assert isinstance(step, Exchange)
        readings = d.cycle.on_outcome(outcome, d.now)  # type: ignore[arg-type]
        assert FaultCode.READER_SILENT not in codes(list(readings))
        assert d.cycle.healthy
