"""A keyboard-style (USB HID) reader, read from its /dev/input/event* device.

"Driver-free" RFID readers and scanners enumerate as a keyboard and type the
token and Enter. Read through the evdev character device, their key strokes
are `struct input_event` records (`protocol.keyboard`: the layout and the
key codes). Only EV_KEY presses (value 1) count; releases, auto-repeat and
EV_SYN/EV_MSC records are skipped.

The device is grabbed (EVIOCGRAB) by default: otherwise every card number
would also be typed into whatever window the kiosk has focused. That is
done with the stdlib's `fcntl.ioctl`, like the reading itself, so no
compiled dependency is needed on the edge box. A grab that fails (another
program holds the device) is DEVICE_UNAVAILABLE.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from protocol.keyboard import (
    EV_KEY,
    IGNORED_KEYS,
    INPUT_EVENT,
    KEY_PRESSED,
    KEY_RELEASED,
    SHIFT_KEYS,
    character,
    input_events,
)

from .classify import TokenRules
from .lines import TokenHandler, token_handler
from .model import FaultCode, Reading
from .present import ReaderKeys
from .runner import Backoff, DeviceError, Session, ThreadedReader
from .tokens import TokenAssembler

EVIOCGRAB = 0x40044590  # _IOW('E', 0x90, int), linux/input.h
_POLL_SLICE = 0.2


@dataclass(frozen=True)
class HidConfig:
    path: str  # e.g. /dev/input/by-id/usb-XXXX-event-kbd (stable across replugs)
    grab: bool = True
    max_length: int = 64
    idle_timeout: float = 1.0


class KeyDecoder:
    """Key events -> the bytes they type. Pure."""

    def __init__(self) -> None:
        self._shift = False

    def feed(self, kind: int, code: int, value: int) -> bytes:
        if kind != EV_KEY:
            return b""
        if code in SHIFT_KEYS:
            self._shift = value != KEY_RELEASED
            return b""
        if value != KEY_PRESSED or code in IGNORED_KEYS:
            return b""
        return character(code, self._shift).encode("ascii")


class HidSession:
    def __init__(
        self, fd: int, config: HidConfig, handle: TokenHandler, clock: Callable[[], float]
    ) -> None:
        self._fd = fd
        self._path = config.path
        self._handle = handle
        self._clock = clock
        self._pending = b""  # part of a record
        self._decoder = KeyDecoder()
        self._assembler = TokenAssembler(
            max_length=config.max_length, idle_timeout=config.idle_timeout
        )

    @classmethod
    def open(
        cls, config: HidConfig, handle: TokenHandler, clock: Callable[[], float]
    ) -> HidSession:
        try:
            fd = os.open(config.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as error:
            raise DeviceError(
                FaultCode.DEVICE_UNAVAILABLE, f"cannot open {config.path}: {error.strerror}"
            ) from None
        if config.grab:
            try:
                fcntl.ioctl(fd, EVIOCGRAB, 1)
            except OSError as error:
                os.close(fd)
                raise DeviceError(
                    FaultCode.DEVICE_UNAVAILABLE, f"cannot grab {config.path}: {error.strerror}"
                ) from None
        return cls(fd, config, handle, clock)

    @property
    def healthy(self) -> bool:
        return True

    def poll(self, stop: threading.Event) -> Sequence[Reading]:
        data = self._read()
        if data is None:
            return []
        data = self._pending + data
        whole = len(data) - len(data) % INPUT_EVENT.size
        self._pending = data[whole:]
        typed = b"".join(self._decoder.feed(*event) for event in input_events(data[:whole]))
        tokens = self._assembler.feed(typed, self._clock())
        return [r for r in map(self._handle, tokens) if r is not None]

    def _read(self) -> bytes | None:
        """Bytes read, or None when nothing came within a short wait."""
        try:
            ready, _, _ = select.select([self._fd], [], [], _POLL_SLICE)
            if not ready:
                return None
            data = os.read(self._fd, INPUT_EVENT.size * 64)
        except BlockingIOError:
            return None
        except OSError as error:
            # ENODEV: the device was unplugged
            reason = errno.errorcode.get(error.errno or 0, "") or error.strerror
            raise DeviceError(FaultCode.DEVICE_LOST, f"reading {self._path}: {reason}") from None
        if not data:
            raise DeviceError(FaultCode.DEVICE_LOST, f"{self._path} reached its end")
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


def hid_reader(
    config: HidConfig,
    rules: TokenRules,
    keys: ReaderKeys,
    *,
    name: str = "keyboard",
    backoff: Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ThreadedReader:
    def open_session() -> Session:
        return HidSession.open(config, token_handler(rules, keys, name), clock)

    return ThreadedReader(name, open_session, backoff=backoff)
