"""The keyboard-style reader: key codes, input_event records, a FIFO for the device.

No keyboard and no uinput here: the device is a FIFO fed with synthetic
`struct input_event` records, which is exactly what the kernel's evdev
character device delivers.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from locker_host.domain import Assurance, CodePurpose
from locker_host.readers import (
    Backoff,
    CardPresented,
    CodeEntered,
    FaultCode,
    HidConfig,
    ReaderFault,
    ReaderKeys,
    ReaderReady,
    StaffCardPresented,
    TokenRules,
    hid_reader,
)
from locker_host.readers.hid import KeyDecoder
from protocol.keyboard import CHARACTERS, EV_KEY, EV_SYN, INPUT_EVENT, KEY_LEFTSHIFT, input_events

from . import numbers as n
from .numbers import assert_clean
from .waiting import next_reading, readings_until, wait_until

HEADER = Path("/usr/include/linux/input-event-codes.h")
KEY_OF = {char: code for code, char in CHARACTERS.items() if char.isalnum()}
KEY_ENTER, KEY_KPENTER, KEY_TAB = 28, 96, 15
EV_MSC = 0x04


def record(kind: int, code: int, value: int) -> bytes:
    return INPUT_EVENT.pack(1_700_000_000, 123_456, kind, code, value)


def typed(text: str, *, end: int = KEY_ENTER) -> bytes:
    """The records a keyboard-style reader sends for `text` and Enter."""
    out = b""
    for char in text:
        shift = char.isupper()
        if shift:
            out += record(EV_KEY, KEY_LEFTSHIFT, 1)
        code = KEY_OF[char.lower()]
        out += record(EV_MSC, 4, 0x7001E) + record(EV_KEY, code, 1) + record(EV_SYN, 0, 0)
        out += record(EV_KEY, code, 0) + record(EV_SYN, 0, 0)
        if shift:
            out += record(EV_KEY, KEY_LEFTSHIFT, 0)
    return out + record(EV_KEY, end, 1) + record(EV_KEY, end, 0) + record(EV_SYN, 0, 0)


def decode(data: bytes) -> bytes:
    decoder = KeyDecoder()
    return b"".join(decoder.feed(*event) for event in input_events(data))


@pytest.mark.skipif(not HEADER.exists(), reason="no kernel headers")
def test_the_key_codes_are_the_kernels() -> None:
    defined = {
        int(code): name
        for name, code in re.findall(r"#define (KEY_\w+)\s+(\d+)\b", HEADER.read_text())
    }
    for code, char in CHARACTERS.items():
        name = defined[code]
        if char.isalnum():
            assert name in (f"KEY_{char.upper()}", f"KEY_KP{char}"), (code, char, name)
    assert defined[KEY_ENTER] == "KEY_ENTER" and defined[KEY_KPENTER] == "KEY_KPENTER"
    assert defined[KEY_LEFTSHIFT] == "KEY_LEFTSHIFT" and defined[KEY_TAB] == "KEY_TAB"


def test_presses_count_releases_and_repeats_do_not() -> None:
    assert decode(typed("12ab")) == b"12ab\n"
    repeat = record(EV_KEY, KEY_OF["7"], 1) + record(EV_KEY, KEY_OF["7"], 2)
    assert decode(repeat) == b"7"


def test_shift_makes_capitals_and_unknown_keys_are_marked() -> None:
    assert decode(typed("110105X")) == b"110105X\n"
    f1 = 59
    assert decode(record(EV_KEY, f1, 1)) == b"?"
    keypad = record(EV_KEY, 79, 1) + record(EV_KEY, 82, 1) + record(EV_KEY, KEY_KPENTER, 1)
    assert decode(keypad) == b"10\n"


def test_the_record_layout_is_struct_input_event() -> None:
    # linux/input.h: a timeval (two native longs), __u16 type, __u16 code, __s32 value
    long = struct.calcsize("l")
    assert INPUT_EVENT.size == 2 * long + 8  # 24 bytes on 64-bit, 16 on 32-bit ARM
    assert record(EV_KEY, 30, 1)[2 * long :] == struct.pack("=HHi", EV_KEY, 30, 1)


class Fifo:
    """A device path that can vanish and come back, with a writer kept open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def plug(self) -> None:
        tmp = self.path.with_name(self.path.name + ".new")
        os.mkfifo(tmp)
        self.fd = os.open(tmp, os.O_RDWR)  # a writer that stays: no EOF for the reader
        os.replace(tmp, self.path)

    def unplug(self) -> None:
        self.path.unlink()
        assert self.fd is not None
        os.close(self.fd)
        self.fd = None

    def type(self, data: bytes) -> None:
        assert self.fd is not None
        os.write(self.fd, data)


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Fifo]:
    device = Fifo(tmp_path / "event7")
    device.plug()
    yield device
    if device.fd is not None:
        os.close(device.fd)


async def test_tokens_typed_on_the_device_become_readings(fifo: Fifo, keys: ReaderKeys) -> None:
    config = HidConfig(str(fifo.path), grab=False)
    reader = hid_reader(config, TokenRules(), keys, backoff=Backoff(0.02, 0.05))
    await reader.start()
    readings = reader.readings()
    assert await next_reading(readings) == ReaderReady("keyboard")
    fifo.type(typed(n.RESIDENT_LOWER_X))
    card = await next_reading(readings)
    assert isinstance(card, CardPresented)
    assert card.credential.assurance is Assurance.WEAK and card.masked == "110105********002X"
    assert card.source == "keyboard"
    data = typed("0012345678", end=KEY_KPENTER)
    fifo.type(data[:7])  # a record cut in two
    fifo.type(data[7:])
    assert isinstance(await next_reading(readings), StaffCardPresented)
    fifo.type(typed(n.BAD_CHECK))
    bad = await next_reading(readings)
    assert isinstance(bad, ReaderFault) and bad.code is FaultCode.INVALID_ID_NUMBER
    fifo.type(typed("P123456", end=KEY_TAB))
    code = await next_reading(readings)
    assert isinstance(code, CodeEntered) and code.purpose is CodePurpose.PICKUP
    assert_clean(card, bad, code)
    await reader.stop()


async def test_an_unplugged_device_is_a_fault_then_it_recovers(
    fifo: Fifo, keys: ReaderKeys
) -> None:
    config = HidConfig(str(fifo.path), grab=False)
    reader = hid_reader(config, TokenRules(), keys, backoff=Backoff(0.02, 0.05))
    await reader.start()
    readings = reader.readings()
    assert await next_reading(readings) == ReaderReady("keyboard")
    fifo.unplug()
    lost = await next_reading(readings)
    assert isinstance(lost, ReaderFault) and lost.code is FaultCode.DEVICE_LOST
    await wait_until(lambda: reader.statistics().open_failures >= 2)
    fifo.plug()
    seen = await readings_until(readings, lambda r: isinstance(r, ReaderReady))
    assert seen == [ReaderReady("keyboard")]  # the failed reopens were not reported again
    fifo.type(typed(n.PERMIT_HK))
    permit = await next_reading(readings)
    assert isinstance(permit, CardPresented) and permit.masked == "810000********1230"
    await reader.stop()


async def test_a_device_that_cannot_be_grabbed_is_unavailable(fifo: Fifo, keys: ReaderKeys) -> None:
    reader = hid_reader(HidConfig(str(fifo.path)), TokenRules(), keys)  # a FIFO has no EVIOCGRAB
    await reader.start()
    fault = await next_reading(reader.readings())
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.DEVICE_UNAVAILABLE
    assert "cannot grab" in fault.message
    await reader.stop()
