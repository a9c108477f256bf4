"""The line-based serial reader over real pseudo-terminals."""

from __future__ import annotations

import os
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from locker_host.domain import Assurance, CodePurpose
from locker_host.readers import (
    Backoff,
    CardPresented,
    CodeEntered,
    FaultCode,
    LineConfig,
    ReaderFault,
    ReaderKeys,
    ReaderReady,
    SerialSettings,
    StaffCardPresented,
    TokenRules,
    line_reader,
)
from simulator.pty_port import PtyPort

from . import numbers as n
from .numbers import assert_clean
from .waiting import next_reading, readings_until, wait_until

FAST = Backoff(0.02, 0.05)


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


async def test_one_token_per_line_whatever_the_ending(
    pty_pair: tuple[int, str], keys: ReaderKeys
) -> None:
    master, path = pty_pair
    config = LineConfig(SerialSettings(path, baud=9600))
    reader = line_reader(config, TokenRules(), keys, backoff=FAST)
    await reader.start()
    readings = reader.readings()
    assert await next_reading(readings) == ReaderReady("scanner")
    os.write(master, f"{n.RESIDENT_LOWER_X}\r\n0012345678\rP1234".encode())
    os.write(master, f"56\n\r\n{n.FOREIGN_2017}\n".encode())
    card, staff, code, foreign = [await next_reading(readings) for _ in range(4)]
    assert isinstance(card, CardPresented) and card.credential.assurance is Assurance.WEAK
    assert card.masked == "110105********002X"
    assert isinstance(staff, StaffCardPresented)
    assert isinstance(code, CodeEntered) and code.purpose is CodePurpose.PICKUP
    assert isinstance(foreign, CardPresented) and foreign.masked == "CAN110*****0112"
    os.write(master, b"\xff\xfe\n" + b"9" * 100 + b"\n" + f"{n.BAD_DATE}\n".encode())
    faults = [await next_reading(readings) for _ in range(3)]
    assert [f.code for f in faults if isinstance(f, ReaderFault)] == [
        FaultCode.UNRECOGNISED,
        FaultCode.TOKEN_TOO_LONG,
        FaultCode.INVALID_ID_NUMBER,
    ]
    assert_clean(card, staff, code, foreign, faults)
    await reader.stop()


async def test_an_unplugged_adapter_is_a_fault_then_it_recovers(
    tmp_path: Path, keys: ReaderKeys
) -> None:
    port = PtyPort(tmp_path / "ttyScanner0")
    port.plug()
    config = LineConfig(SerialSettings(str(port.link), baud=9600))
    reader = line_reader(config, TokenRules(), keys, backoff=FAST)
    await reader.start()
    readings = reader.readings()
    try:
        assert await next_reading(readings) == ReaderReady("scanner")
        port.unplug()
        lost = await next_reading(readings)
        assert isinstance(lost, ReaderFault) and lost.code is FaultCode.DEVICE_LOST
        await wait_until(lambda: reader.statistics().open_failures >= 2)
        port.plug()
        assert await readings_until(readings, lambda r: True) == [ReaderReady("scanner")]
        port.write(f"{n.RESIDENT_2}\r\n".encode())
        card = await next_reading(readings)
        assert isinstance(card, CardPresented) and card.masked == "130981********1232"
    finally:
        await reader.stop()
        port.unplug()


async def test_an_absent_device_is_unavailable(tmp_path: Path, keys: ReaderKeys) -> None:
    config = LineConfig(SerialSettings(str(tmp_path / "nothing"), baud=9600))
    reader = line_reader(config, TokenRules(), keys, name="rfid", backoff=FAST)
    await reader.start()
    fault = await next_reading(reader.readings())
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.DEVICE_UNAVAILABLE
    assert fault.source == "rfid" and "cannot open" in fault.message
    await reader.stop()
