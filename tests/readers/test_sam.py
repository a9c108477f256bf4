"""The SAM_V reader adapter against the simulated reader, over a real pseudo-terminal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from locker_host.domain import Assurance, IdKind, owner_key, validate_id_number
from locker_host.readers import (
    Backoff,
    CardPresented,
    FaultCode,
    ReaderFault,
    ReaderKeys,
    ReaderReady,
    Reading,
    SamConfig,
    SamTiming,
    SerialSettings,
    ThreadedReader,
    sam_reader,
)
from simulator.commands import dispatch
from simulator.layout import simple_layout
from simulator.runtime import Simulator

from . import numbers as n
from .conftest import OWNER_SECRET
from .numbers import assert_clean
from .waiting import next_reading, readings_until, wait_until

TIMING = SamTiming(
    poll_interval=0.03,
    check_timeout=0.3,
    find_timeout=0.3,
    select_timeout=0.3,
    read_timeout=0.6,
    sam_retry=0.1,
    repeat_hold=0.01,  # below two polls: a card lifted and placed again is a new placement
)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    simulator = Simulator(simple_layout(boards=1, channels=8), tmp_path / "run")
    simulator.start()
    yield simulator
    simulator.stop()
    assert simulator.failure() is None


def control(sim: Simulator, cmd: str, **args: object) -> dict[str, Any]:
    reply = dispatch(sim, {"cmd": cmd, **args})
    assert reply["ok"], reply
    return reply


def found(sim: Simulator) -> int:
    """Finds the simulated reader answered 9F (a card is there)."""
    assert sim.card_reader is not None
    return sim.card_reader.model.counters["found"]


def empty(sim: Simulator) -> int:
    """Finds the simulated reader answered 80 (no card)."""
    assert sim.card_reader is not None
    counters = sim.card_reader.model.counters
    return counters["finds"] - counters["found"]


async def lift_card(sim: Simulator) -> None:
    """Take the card away and wait until the host has seen the reader empty."""
    seen = empty(sim)
    control(sim, "remove_card")
    await wait_until(lambda: empty(sim) > seen)


class Running:
    def __init__(self, reader: ThreadedReader) -> None:
        self.reader = reader
        self.readings: AsyncIterator[Reading] = reader.readings()


async def start(sim: Simulator, keys: ReaderKeys) -> Running:
    assert sim.card_reader is not None
    config = SamConfig(SerialSettings(str(sim.card_reader.pty.link)), TIMING)
    reader = sam_reader(config, keys.owner, backoff=Backoff(0.02, 0.1))
    await reader.start()
    r = Running(reader)
    assert await next_reading(r.readings) == ReaderReady("idcard")
    return r


async def test_a_swipe_is_one_strong_reading_until_the_card_comes_back(
    sim: Simulator, keys: ReaderKeys
) -> None:
    r = await start(sim, keys)
    try:
        control(sim, "swipe", id_number=n.RESIDENT, hold=0)  # until removed
        card = await next_reading(r.readings)
        assert isinstance(card, CardPresented)
        expected = owner_key(OWNER_SECRET, validate_id_number(n.RESIDENT))
        assert card.credential.primary.key == expected
        assert card.credential.assurance is Assurance.STRONG
        assert card.masked == "110105********002X" and card.source == "idcard"
        assert_clean(card)
        # The card stays: the reader keeps finding it, the adapter reads nothing more.
        seen = found(sim)
        await wait_until(lambda: found(sim) >= seen + 5)
        assert r.reader.statistics().readings == 2  # ReaderReady and the card
        await lift_card(sim)
        control(sim, "swipe", id_number=n.RESIDENT, hold=0)
        again = await next_reading(r.readings)
        assert isinstance(again, CardPresented) and again.credential == card.credential
        assert sim.card_reader is not None and sim.card_reader.model.counters["reads"] == 2
    finally:
        await r.reader.stop()


@pytest.mark.parametrize(
    ("number", "card_type", "kind", "masked"),
    [
        (n.RESIDENT_2, "resident", IdKind.RESIDENT, "130981********1232"),
        (n.PERMIT_TW, "permit", IdKind.HMT_RESIDENCE_PERMIT, "830000********0015"),
        (n.FOREIGN_2017, "foreign2017", IdKind.FOREIGN_PERMANENT_2004, "CAN110*****0112"),
        (n.FOREIGN_2023, "foreign2023", IdKind.FOREIGN_PERMANENT_2023, "911560********0012"),
    ],
)
async def test_every_card_type(
    sim: Simulator, keys: ReaderKeys, number: str, card_type: str, kind: IdKind, masked: str
) -> None:
    r = await start(sim, keys)
    try:
        assert control(sim, "swipe", id_number=number, type=card_type)["card"] == card_type
        card = await next_reading(r.readings)
        assert isinstance(card, CardPresented)
        assert (card.id_kind, card.masked) == (kind, masked)
        assert card.credential.primary.key == owner_key(OWNER_SECRET, validate_id_number(number))
        assert_clean(card)
    finally:
        await r.reader.stop()


async def test_an_invalid_number_on_the_card_is_a_fault_not_a_reading(
    sim: Simulator, keys: ReaderKeys
) -> None:
    r = await start(sim, keys)
    try:
        control(sim, "swipe", id_number=n.BAD_CHECK, hold=0)
        fault = await next_reading(r.readings)
        assert isinstance(fault, ReaderFault) and fault.code is FaultCode.CARD_NOT_VALID
        assert "110105********0021" in fault.message
        assert_clean(fault)
        seen = found(sim)
        await wait_until(lambda: found(sim) >= seen + 3)
        assert r.reader.statistics().readings == 2 and r.reader.statistics().available
    finally:
        await r.reader.stop()


async def test_an_unplugged_reader_is_a_fault_then_it_recovers(
    sim: Simulator, keys: ReaderKeys
) -> None:
    r = await start(sim, keys)
    try:
        control(sim, "reader_unplug")
        lost = await next_reading(r.readings)
        assert isinstance(lost, ReaderFault) and lost.code is FaultCode.DEVICE_LOST
        await wait_until(lambda: r.reader.statistics().open_failures >= 2)
        assert r.reader.statistics().available is False
        control(sim, "reader_replug")
        assert await readings_until(r.readings, lambda x: True) == [ReaderReady("idcard")]
        control(sim, "swipe", id_number=n.PERMIT_HK)
        card = await next_reading(r.readings)
        assert isinstance(card, CardPresented) and card.masked == "810000********1230"
    finally:
        await r.reader.stop()


async def test_a_sam_that_fails_its_self_test_then_recovers(
    sim: Simulator, keys: ReaderKeys
) -> None:
    r = await start(sim, keys)
    try:
        control(sim, "reader_fault", fault="no_sam")
        fault = await next_reading(r.readings)
        assert isinstance(fault, ReaderFault) and fault.code is FaultCode.SAM_UNAVAILABLE
        assert "SELF_TEST_FAILED" in fault.message
        control(sim, "reader_fault", fault="none")
        assert await next_reading(r.readings) == ReaderReady("idcard")
    finally:
        await r.reader.stop()


async def test_a_card_that_cannot_be_read_is_reported_once(
    sim: Simulator, keys: ReaderKeys
) -> None:
    r = await start(sim, keys)
    try:
        control(sim, "reader_fault", fault="read_failure")
        control(sim, "swipe", id_number=n.RESIDENT, hold=0)
        fault = await next_reading(r.readings)
        assert isinstance(fault, ReaderFault) and fault.code is FaultCode.READ_FAILED
        seen = found(sim)
        await wait_until(lambda: found(sim) >= seen + 3)
        assert r.reader.statistics().readings == 2
        control(sim, "reader_fault", fault="none")
        await lift_card(sim)
        control(sim, "swipe", id_number=n.RESIDENT)
        assert isinstance(await next_reading(r.readings), CardPresented)
    finally:
        await r.reader.stop()


async def test_a_device_that_is_not_there(tmp_path: Path, keys: ReaderKeys) -> None:
    config = SamConfig(SerialSettings(str(tmp_path / "ttyIDCARD9")), TIMING)
    reader = sam_reader(config, keys.owner, backoff=Backoff(0.02, 0.1))
    await reader.start()
    try:
        fault = await next_reading(reader.readings())
        assert isinstance(fault, ReaderFault) and fault.code is FaultCode.DEVICE_UNAVAILABLE
    finally:
        await reader.stop()
