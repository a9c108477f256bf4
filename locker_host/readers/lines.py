"""A serial reader that types one token per line: scanners and RFID readers in serial mode.

Barcode / QR scanners and many "driver-free" RFID readers also come as a
USB CDC or RS-232 serial port sending the token and CR, LF or CR LF
(`tokens.TokenAssembler` handles the line discipline). Each token goes to
`classify`. Bytes are decoded as UTF-8; anything else is unrecognised.
Scanners default to 9600 8N1 in serial mode more often than not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .classify import TokenRules, classify
from .model import FaultCode, ReaderFault, Reading
from .present import ReaderKeys
from .runner import Backoff, Session, ThreadedReader
from .serial_port import SerialDevice, SerialSettings
from .tokens import TokenAssembler, TooLong


@dataclass(frozen=True)
class LineConfig:
    serial: SerialSettings
    max_length: int = 64
    idle_timeout: float = 1.0  # seconds: a fragment older than this is noise


TokenHandler = Callable[[bytes | TooLong], Reading | None]


def token_handler(rules: TokenRules, keys: ReaderKeys, source: str) -> TokenHandler:
    """What an assembled token reads as (shared with the HID reader)."""

    def handle(token: bytes | TooLong) -> Reading | None:
        if isinstance(token, TooLong):
            return ReaderFault(FaultCode.TOKEN_TOO_LONG, f"{token.length} bytes", source)
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            return ReaderFault(FaultCode.UNRECOGNISED, f"{len(token)} bytes, not UTF-8", source)
        return classify(text, rules, keys, source=source)

    return handle


class LineSession:
    def __init__(
        self,
        device: SerialDevice,
        config: LineConfig,
        handle: TokenHandler,
        clock: Callable[[], float],
    ) -> None:
        self._device = device
        self._handle = handle
        self._clock = clock
        self._assembler = TokenAssembler(
            max_length=config.max_length, idle_timeout=config.idle_timeout
        )

    @property
    def healthy(self) -> bool:
        return True  # a line reader says nothing until it has something

    def poll(self, stop: threading.Event) -> Sequence[Reading]:
        tokens = self._assembler.feed(self._device.read(), self._clock())
        return [r for r in map(self._handle, tokens) if r is not None]

    def close(self) -> None:
        self._device.close()


def line_reader(
    config: LineConfig,
    rules: TokenRules,
    keys: ReaderKeys,
    *,
    name: str = "scanner",
    backoff: Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ThreadedReader:
    def open_session() -> Session:
        device = SerialDevice.open(config.serial)
        return LineSession(device, config, token_handler(rules, keys, name), clock)

    return ThreadedReader(name, open_session, backoff=backoff)
