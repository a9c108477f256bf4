"""lockerd's keyboard and line readers against the simulator's staff-card reader.

The simulator types a card the way a hall's reader does (simulator/
staff_reader.py): key-stroke records on a pseudo-terminal for the keyboard
kind (read by the `hid` reader, which cannot grab a pty), the number and
CR LF for the serial kind (read by the `line` reader).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from locker_host.readers import (
    Backoff,
    HidConfig,
    LineConfig,
    ReaderKeys,
    ReaderReady,
    SerialSettings,
    StaffCardPresented,
    ThreadedReader,
    TokenRules,
    hid_reader,
    line_reader,
    staff_card_digests,
)
from simulator.commands import dispatch
from simulator.layout import StaffReaderSpec, simple_layout
from simulator.runtime import Simulator
from simulator.staff_reader import StaffReaderKind

from .waiting import next_reading

CLERK = "0012345678"


def serve(tmp_path: Path, kind: StaffReaderKind) -> Simulator:
    layout = replace(simple_layout(boards=1, channels=4), reader=None)
    sim = Simulator(replace(layout, staff_reader=StaffReaderSpec(kind)), tmp_path / "run")
    sim.start()
    return sim


@pytest.fixture(params=list(StaffReaderKind))
def sim(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Simulator]:
    simulator = serve(tmp_path, request.param)
    yield simulator
    simulator.stop()


def reader_for(sim: Simulator, keys: ReaderKeys) -> ThreadedReader:
    front = sim.staff_reader
    assert front is not None
    link = str(front.pty.link)
    backoff = Backoff(0.02, 0.1)
    if front.kind is StaffReaderKind.KEYBOARD:
        return hid_reader(HidConfig(link, grab=False), TokenRules(), keys, backoff=backoff)
    return line_reader(LineConfig(SerialSettings(link, 9600)), TokenRules(), keys, backoff=backoff)


async def test_a_card_at_the_simulated_staff_reader_is_a_staff_card(
    sim: Simulator, keys: ReaderKeys
) -> None:
    reader = reader_for(sim, keys)
    await reader.start()
    readings = reader.readings()
    try:
        assert isinstance(await next_reading(readings), ReaderReady)
        reply = dispatch(sim, {"cmd": "staff_card", "number": CLERK})
        assert reply["ok"] and CLERK not in repr(reply), reply
        card = await next_reading(readings)
        assert isinstance(card, StaffCardPresented)
        assert card.digests == staff_card_digests(keys.staff, CLERK)
        assert card.masked.endswith("5678") and CLERK not in repr(card)
        dispatch(sim, {"cmd": "staff_card", "number": "0099887766"})
        second = await next_reading(readings)
        assert isinstance(second, StaffCardPresented)
        assert second.digests == staff_card_digests(keys.staff, "0099887766")
    finally:
        await reader.stop()
    assert sim.staff_reader is not None and sim.staff_reader.info()["cards"] == 2
