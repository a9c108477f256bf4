"""Settings in flash: whatever is (or is not) stored, the board boots on
factory defaults with a flag the host can read, never an exception; a written
setting is saved and clears the flag; the file is replaced write-new-then-rename
(CPython and MicroPython); an exception inside a step switches every coil off."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.core.firmware import Firmware
from firmware.core.settings import SIZE, FlashFile, MemoryFlash, Settings, decode, encode
from firmware.hal.sim import SimBoard, SimHal
from protocol import reference_board as rb
from protocol.crc import with_crc
from protocol.modbus import WriteSingleRegister, decode_reply, encode_request
from simulator.micropython import MicroPythonHost, run_script


def _settings(**values: int) -> bytes:
    stored = Settings()
    for name, value in values.items():
        setattr(stored, name, value)
    return bytes(encode(stored))


def _resealed(data: bytes) -> bytes:
    """`data` with its CRC made right again: only the values are wrong."""
    return with_crc(data[: SIZE - 2])


GOOD = _settings(unit=7, serial_format=0x0304, pulse_default_ms=900, polarity=5)
UNTRUSTED = {
    "missing": None,
    "empty": b"",
    "truncated": GOOD[:-1],
    "longer": GOOD + b"\x00",
    "crc": GOOD[:-1] + bytes((GOOD[-1] ^ 1,)),
    "foreign": _resealed(b"XS" + GOOD[2:]),
    "version": _resealed(GOOD[:2] + b"\x02" + GOOD[3:]),
    "unit 0": _settings(unit=0),
    "unit 248": _settings(unit=248),
    "baud code 5": _settings(serial_format=5),
    "frame code 4": _settings(serial_format=0x0400),
    "pulse 49": _settings(pulse_default_ms=49),
    "pulse 10001": _settings(pulse_default_ms=10_001),
    "polarity 8": _settings(polarity=8),
    "garbage": bytes(range(SIZE)),
}


def _board(stored: bytes | None) -> SimBoard:
    board = SimBoard(24, 1, 7, 0x0304, 0)
    board.hal.flash.data = stored
    board.power_up(1000)
    return board


def _flags(board: SimBoard, unit: int) -> rb.StatusFlags:
    request = rb.status_request(24)
    raw = board.deliver(encode_request(unit, request), 2000)
    assert raw is not None, "the board did not answer"
    status = rb.parse_status(decode_reply(unit, request, raw), 24)
    assert isinstance(status, rb.BoardStatus)
    return status.flags


def test_good_settings_are_used() -> None:
    board = _board(GOOD)
    assert (board.unit, board.uart_format) == (7, 0x0304)  # 115200 8N1
    assert board.info()["pulse_default_ms"] == 900 and board.info()["polarity"] == 5
    assert not _flags(board, 7) & rb.StatusFlags.FACTORY_DEFAULTS


@pytest.mark.parametrize("stored", UNTRUSTED.values(), ids=UNTRUSTED.keys())
def test_untrusted_settings_give_factory_defaults_and_the_flag(stored: bytes | None) -> None:
    assert decode(stored) is None
    board = _board(stored)
    assert (board.unit, board.uart_format) == (1, rb.FACTORY_SERIAL_FORMAT)  # 19200 8E1
    info = board.info()
    assert info["pulse_default_ms"] == rb.PULSE_DEFAULT_MS and info["polarity"] == 0
    assert info["faults"] == 0
    assert _flags(board, 1) == rb.StatusFlags.RESET | rb.StatusFlags.FACTORY_DEFAULTS


def test_writing_a_setting_saves_it_and_clears_the_flag() -> None:
    board = _board(b"junk")
    request = WriteSingleRegister(rb.HR_PULSE_DEFAULT_MS, rb.PULSE_DEFAULT_MS)  # same value
    assert board.deliver(encode_request(1, request), 1500) is not None
    assert not _flags(board, 1) & rb.StatusFlags.FACTORY_DEFAULTS
    saved = decode(board.hal.flash.load())
    assert saved is not None and encode(saved) == encode(Settings())
    board.power_up(3000)
    assert not _flags(board, 1) & rb.StatusFlags.FACTORY_DEFAULTS


def test_the_serial_format_applies_from_the_next_power_up() -> None:
    board = SimBoard(24, 1, 1, 1, 0)
    request = WriteSingleRegister(rb.HR_SERIAL_FORMAT, 4 | 3 << 8)  # 115200 8N1
    assert board.deliver(encode_request(1, request), 1000) is not None
    assert board.uart_format == 1  # the reply went out at 19200 8E1
    board.power_up(2000)
    assert board.uart_format == 4 | 3 << 8
    assert board.firmware.framer.t35_us == 1750  # fixed above 19200 bps (Serial Line 2.5.1.1)


# -- FlashFile: write new, then rename ----------------------------------------------------


def test_flash_file_round_trip_and_a_leftover_new_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.bin"
    flash = FlashFile(str(path))
    assert flash.load() is None
    flash.save(bytearray(GOOD))
    assert flash.load() == GOOD and not (tmp_path / "settings.bin.new").exists()
    # a power cut between write and rename leaves a .new file: it is ignored
    (tmp_path / "settings.bin.new").write_bytes(b"half a fi")
    assert flash.load() == GOOD
    flash.save(bytearray(_settings(unit=3)))
    assert decode(flash.load()).unit == 3  # type: ignore[union-attr]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.bin"]


MICROPYTHON_FLASH = """
import os
from firmware.core.settings import FlashFile, Settings, decode, encode
os.mkdir('/flash')
flash = FlashFile('/flash/settings.bin')
print('missing', flash.load())
stored = Settings()
stored.unit = 42
flash.save(encode(stored))
print('saved', decode(flash.load()).unit, sorted(os.listdir('/flash')))
with open('/flash/settings.bin.new', 'wb') as f:
    f.write(b'half a fi')
print('leftover', decode(flash.load()).unit)
stored.unit = 43
flash.save(encode(stored))
print('replaced', decode(flash.load()).unit, sorted(os.listdir('/flash')))
with open('/flash/settings.bin', 'wb') as f:
    f.write(b'junk')
print('corrupt', decode(flash.load()))
"""


def test_flash_file_under_micropython(micropython: MicroPythonHost) -> None:
    out = run_script(MICROPYTHON_FLASH).split("\n")
    assert out[:5] == [
        "missing None",
        "saved 42 ['settings.bin']",
        "leftover 42",
        "replaced 43 ['settings.bin']",
        "corrupt None",
    ]


# -- an exception inside a step -------------------------------------------------------------


class FlakyHal(SimHal):
    """A HAL whose input read raises once when told to (a bus glitch on the board)."""

    fail = False

    def read_inputs(self, door: list[int], item: list[int], feedback: list[int]) -> None:
        if self.fail:
            self.fail = False
            raise OSError("input shift register did not answer")
        super().read_inputs(door, item, feedback)


def test_an_exception_in_a_step_switches_every_coil_off() -> None:
    hal = FlakyHal(24, [1, 0, 1, 7], MemoryFlash())
    firmware = Firmware(hal)
    firmware.boot()
    for ch, at in ((1, 0), (20, 10_000)):  # two unlocks through the UART and the framer
        hal.now = at
        hal.receive(encode_request(1, rb.unlock_request(ch, 24)))
        firmware.step()
        hal.now = at + 5_000  # t3.5 of silence: the frame is served
        firmware.step()
    assert hal.coils == [1, 1 << 3] and firmware.faults == 0
    hal.fail = True
    hal.now = 20_000
    firmware.step()
    assert firmware.faults == 1 and hal.coils == [0, 0]
    hal.now = 21_000
    firmware.step()  # the next pass runs as usual
    assert firmware.faults == 1 and hal.fed == 21_000
