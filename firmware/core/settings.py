"""The board's settings and how they survive in flash.

What is kept: unit address, serial format (baud and frame codes of the
serial_format register), the default pulse and the input polarity. Twelve
bytes: "LS", version, unit, serial format (2), pulse default (2), polarity,
a reserved byte, CRC-16/MODBUS over the ten before it (low byte first).

Safe update: the new settings are written whole to `<path>.new`, then
renamed over `<path>`. On the RP2040's littlefs a rename is atomic, so a
power cut leaves either the old file or the new one, never half of one.
At boot a missing, short, foreign or corrupt file, or one whose values are
out of range, means factory defaults and the FACTORY_DEFAULTS status flag:
the board answers on the bus with the factory address and the host can see
why, instead of a board that resets in a loop. A leftover `.new` file (a cut
between write and rename) is ignored: the file it was to replace is still
whole.
"""

import os

from .. import regmap
from .crc import crc16

SIZE = 12
_VERSION = 1


class Settings:
    __slots__ = ("polarity", "pulse_default_ms", "serial_format", "unit")

    def __init__(self) -> None:
        self.unit = regmap.FACTORY_UNIT
        self.serial_format = regmap.FACTORY_SERIAL_FORMAT
        self.pulse_default_ms = regmap.PULSE_DEFAULT_MS
        self.polarity = 0

    def baud(self) -> int:
        return regmap.BAUD_RATES[self.serial_format & 0xFF]

    def frame(self) -> int:
        return self.serial_format >> 8


def serial_format_ok(value: int) -> bool:
    return (value & 0xFF) < len(regmap.BAUD_RATES) and (value >> 8) < len(regmap.FRAMES)


def encode(settings: Settings) -> bytearray:
    data = bytearray(SIZE)
    data[0] = 0x4C  # "L"
    data[1] = 0x53  # "S"
    data[2] = _VERSION
    data[3] = settings.unit
    data[4] = settings.serial_format >> 8
    data[5] = settings.serial_format & 0xFF
    data[6] = settings.pulse_default_ms >> 8
    data[7] = settings.pulse_default_ms & 0xFF
    data[8] = settings.polarity
    crc = crc16(data, 0, 10)
    data[10] = crc & 0xFF
    data[11] = crc >> 8
    return data


def decode(data: "bytes | bytearray | None") -> "Settings | None":
    """The settings in `data`, or None when they cannot be trusted."""
    if data is None or len(data) != SIZE:
        return None
    buf = bytearray(data)
    if buf[0] != 0x4C or buf[1] != 0x53 or buf[2] != _VERSION or crc16(buf, 0, SIZE) != 0:
        return None
    settings = Settings()
    settings.unit = buf[3]
    settings.serial_format = buf[4] << 8 | buf[5]
    settings.pulse_default_ms = buf[6] << 8 | buf[7]
    settings.polarity = buf[8]
    if not 1 <= settings.unit <= regmap.MAX_UNIT:
        return None
    if not serial_format_ok(settings.serial_format):
        return None
    if not regmap.PULSE_MIN_MS <= settings.pulse_default_ms <= regmap.PULSE_MAX_MS:
        return None
    if settings.polarity & ~regmap.POLARITY_ALL:
        return None
    return settings


class FlashFile:
    """Settings in a file on a filesystem: littlefs on the board, any
    directory under CPython or MicroPython's unix/WebAssembly ports."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._new = path + ".new"

    def load(self) -> "bytes | None":
        try:
            with open(self.path, "rb") as f:
                return f.read(SIZE + 1)  # one more: a longer file is not ours
        except OSError:
            return None

    def save(self, data: bytearray) -> None:
        with open(self._new, "wb") as f:
            f.write(data)
        os.rename(self._new, self.path)


class MemoryFlash:
    """Settings kept in RAM: the simulator's boards, which keep them across
    a simulated power cut as EEPROM would."""

    def __init__(self) -> None:
        self.data: bytes | None = None

    def load(self) -> "bytes | None":
        return self.data

    def save(self, data: bytearray) -> None:
        self.data = bytes(data)
