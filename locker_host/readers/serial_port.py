"""A serial device for the readers, and the one place pyserial's errors are translated.

pyserial raises `SerialException` (an `OSError`) for most things and plain
`OSError` / `termios.error` for some; a USB adapter pulled out shows up as
"device reports readiness to read but returned no data" on read and EIO on
write. All of them become `DeviceError`: DEVICE_UNAVAILABLE when opening
fails (absent, busy, no permission), DEVICE_LOST once it was open. Messages
name the device and the cause, never data.

The port is opened exclusively (flock): two programs reading one card
reader would each see half the bytes.
"""

from __future__ import annotations

import contextlib
import termios
from collections.abc import Iterator
from dataclasses import dataclass

import serial

from protocol.timing import SerialFormat

from .model import FaultCode
from .runner import DeviceError

_READ_SLICE = 0.05  # seconds one read may block: keeps stop() prompt


@dataclass(frozen=True)
class SerialSettings:
    path: str
    baud: int = 115200
    frame: str = "8N1"  # data bits, parity, stop bits

    @property
    def format(self) -> SerialFormat:
        return SerialFormat.parse(self.baud, self.frame)


@contextlib.contextmanager
def _translated(code: FaultCode, what: str) -> Iterator[None]:
    try:
        yield
    except (OSError, termios.error) as error:  # SerialException is an OSError
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise DeviceError(code, f"{what}: {reason}") from None


class SerialDevice:
    def __init__(self, port: serial.Serial, path: str) -> None:
        self._port = port
        self.path = path

    @classmethod
    def open(cls, settings: SerialSettings) -> SerialDevice:
        fmt = settings.format
        with _translated(FaultCode.DEVICE_UNAVAILABLE, f"cannot open {settings.path}"):
            port = serial.Serial(
                port=settings.path,
                baudrate=fmt.baud,
                bytesize=fmt.bytesize,
                parity=fmt.parity,
                stopbits=fmt.stopbits,
                timeout=_READ_SLICE,
                write_timeout=1.0,
                exclusive=True,
            )
        return cls(port, settings.path)

    def read(self) -> bytes:
        """What has arrived, waiting at most a short slice for the first byte."""
        with _translated(FaultCode.DEVICE_LOST, f"reading {self.path}"):
            data: bytes = self._port.read(self._port.in_waiting or 1)
        return data

    def write(self, data: bytes) -> None:
        with _translated(FaultCode.DEVICE_LOST, f"writing {self.path}"):
            self._port.write(data)

    def discard_input(self) -> None:
        with _translated(FaultCode.DEVICE_LOST, f"flushing {self.path}"):
            self._port.reset_input_buffer()

    def close(self) -> None:
        with contextlib.suppress(OSError, termios.error):
            self._port.close()
