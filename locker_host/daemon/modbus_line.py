"""A blocking Modbus RTU master on one serial port, for commissioning only.

Scanning a bus for units and changing a board's address are things the bus
owner never does (it knows its boards from the configuration), and they run
while the daemon is stopped, so this tool opens the port itself: exclusive
(a running lockerd holds the lock, and the open fails "busy"), one request
at a time, the inter-frame silence (t3.5, or `min_gap` if longer) left
before every request, a reply read with the protocol's `ReplyReader` until
it names an outcome or the response timeout passes. Faults are values;
only a port that cannot be opened or fails raises `LineError`, translated
from pyserial's exceptions here and nowhere else.
"""

from __future__ import annotations

import contextlib
import errno
import os
import termios
import time

import serial

from protocol import BusFault
from protocol.modbus import (
    BROADCAST,
    Reply,
    ReplyReader,
    Request,
    encode_request,
    reply_length,
)
from protocol.timing import SerialFormat

_PARITY = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}
_READ_SLICE = 0.005  # seconds one read may block while a reply is awaited
DEFAULT_ALLOWANCE = 0.05  # board processing + USB adapter buffering, seconds


class LineError(Exception):
    code = "line_error"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def _errno(exc: BaseException) -> int | None:
    number = getattr(exc, "errno", None)
    if number is None and isinstance(exc, termios.error) and exc.args:
        number = exc.args[0]  # termios.error is not an OSError: (errno, text)
    return number if isinstance(number, int) else None


def _problem(exc: BaseException) -> str:
    number = _errno(exc)
    if number in (errno.EBUSY, errno.EAGAIN):
        return "the port is in use (is lockerd running? stop it first)"
    if number in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return "no such device (unplugged?)"
    if number in (errno.EACCES, errno.EPERM):
        return "permission denied (is the user in the dialout group?)"
    return str(exc) or type(exc).__name__


class ModbusLine:
    def __init__(self, port: serial.Serial, path: str, fmt: SerialFormat, min_gap: float) -> None:
        self._port = port
        self.path = path
        self.format = fmt
        self._gap = max(fmt.t35, min_gap)
        self._quiet_since = time.monotonic()

    @classmethod
    def open(cls, path: str, fmt: SerialFormat, *, min_gap: float = 0.0) -> ModbusLine:
        port = serial.Serial()
        port.port, port.baudrate, port.timeout = path, fmt.baud, _READ_SLICE
        port.bytesize, port.stopbits = fmt.bytesize, fmt.stopbits
        port.parity = _PARITY[fmt.parity]
        port.exclusive = True
        try:
            try:
                port.open()
            except (serial.SerialException, OSError, termios.error) as exc:
                # A pseudo-terminal (the simulator) refuses a parity change with EINVAL.
                if _errno(exc) != errno.EINVAL or not _is_pty(path):
                    raise
                port.parity = serial.PARITY_NONE
                port.open()
            port.reset_input_buffer()
        except (serial.SerialException, OSError, termios.error) as exc:
            raise LineError(path, f"cannot open: {_problem(exc)}") from None
        return cls(port, path, fmt, min_gap)

    def close(self) -> None:
        with contextlib.suppress(serial.SerialException, OSError):
            self._port.close()

    def __enter__(self) -> ModbusLine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def response_timeout(self, request: Request, allowance: float = DEFAULT_ALLOWANCE) -> float:
        wire = self.format.wire_time(len(encode_request(1, request)) + reply_length(request))
        return wire + self.format.t35 + allowance

    def transact(self, unit: int, request: Request, *, timeout: float) -> Reply | BusFault:
        reader = ReplyReader(unit, request)
        self._send(encode_request(unit, request))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self._read()
            if data:
                outcome = reader.feed(data)
                if outcome is not None:
                    return outcome
        return reader.give_up()

    def broadcast(self, request: Request) -> None:
        """Unit 0: every board executes it, none answers (Serial Line V1.02, 2.2)."""
        self._send(encode_request(BROADCAST, request))
        time.sleep(self.format.wire_time(8) + self._gap)

    def _send(self, frame: bytes) -> None:
        # Leave the inter-frame silence since the last byte, discarding stray bytes.
        while (wait := self._quiet_since + self._gap - time.monotonic()) > 0:
            time.sleep(wait)
            if self._read():
                continue
        try:
            self._port.write(frame)
            self._port.flush()
        except (serial.SerialException, OSError, termios.error) as exc:
            raise LineError(self.path, f"write failed: {_problem(exc)}") from None
        self._quiet_since = time.monotonic() + self.format.wire_time(len(frame))

    def _read(self) -> bytes:
        try:
            data: bytes = self._port.read(self._port.in_waiting or 1)
        except (serial.SerialException, OSError, termios.error) as exc:
            raise LineError(self.path, f"read failed: {_problem(exc)}") from None
        if data:
            self._quiet_since = time.monotonic()
        return data


def _is_pty(path: str) -> bool:
    with contextlib.suppress(OSError):
        real = os.path.realpath(path)
        return real.startswith("/dev/pts/")
    return False
