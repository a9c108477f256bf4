"""The SAM_V card reader (second-generation ID cards, GA 467) on a serial port or USB.

The cycle (find -> select -> read, card removal, retries) is `sam_cycle`;
this is its shell: one exchange at a time over a `SamLink`, the protocol's
`ReplyReader` for the bytes, the monotonic clock for timeouts. Stale input
is discarded before each command, so a late reply to the last command (a
bare status fits every command) is not taken for this one's.

The link is a serial port (`serial_port`: RS-232, or a USB adapter or
reader that shows up as /dev/ttyUSB* or /dev/ttyACM*) or a reader in USB
mode (`usb_port`: bulk pipes, no tty); the cycle above it is the same.
Serial readers default to 115200 8N1 and can be set to 57600 ... 9600
(id-card-reader.md); `SamConfig.link` says what this one uses.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from locker_host.domain import Keyring
from protocol import idcard

from .model import Reading
from .runner import Backoff, Session, ThreadedReader
from .sam_cycle import Exchange, SamCycle, SamTiming
from .serial_port import SerialDevice, SerialSettings
from .usb_port import UsbSamDevice, UsbSettings

# The largest reply the cycle asks for: 30 01, text + photo (1295 bytes).
_READ_REPLY_BYTES = 1295
_IDLE_SLICE = 0.25  # seconds one poll may idle: keeps stop() prompt


@dataclass(frozen=True)
class SamConfig:
    link: SerialSettings | UsbSettings
    timing: SamTiming = field(default_factory=SamTiming)

    @property
    def wire_time(self) -> float:
        """Seconds the longest reply takes on the link (USB: well under a millisecond)."""
        if isinstance(self.link, UsbSettings):
            return 0.0
        return self.link.format.wire_time(_READ_REPLY_BYTES)


class SamLink(Protocol):
    """The byte stream to and from a reader (a serial port, or the USB pipes as one)."""

    def read(self) -> bytes: ...

    def write(self, data: bytes) -> None: ...

    def discard_input(self) -> None: ...

    def close(self) -> None: ...


def open_link(config: SamConfig, usb_backend: Any = None) -> SamLink:
    if isinstance(config.link, UsbSettings):
        return UsbSamDevice.open(config.link, usb_backend)
    return SerialDevice.open(config.link)


class SamSession:
    def __init__(
        self,
        device: SamLink,
        keyring: Keyring,
        config: SamConfig,
        source: str,
        clock: Callable[[], float],
        *,
        counters: Counter[str] | None = None,
        details: dict[str, str] | None = None,
    ) -> None:
        self._details = {} if details is None else details
        self._device = device
        self._clock = clock
        wire = config.wire_time
        self._cycle = SamCycle(
            keyring, config.timing, source=source, now=clock(), wire_time=wire, counters=counters
        )
        self.counters = self._cycle.counters

    @property
    def healthy(self) -> bool:
        return self._cycle.healthy

    def poll(self, stop: threading.Event) -> Sequence[Reading]:
        now = self._clock()
        action = self._cycle.next_action(now)
        if not isinstance(action, Exchange):
            stop.wait(min(action.until - now, _IDLE_SLICE))
            return []
        outcome = self._exchange(action)
        readings = self._cycle.on_outcome(outcome, self._clock())
        if self._cycle.sam_id is not None:
            self._details["sam_id"] = self._cycle.sam_id
        return readings

    def _exchange(self, action: Exchange) -> idcard.Reply | idcard.ReaderFault:
        self._device.discard_input()
        self._device.write(idcard.encode_command(action.command))
        reader = idcard.ReplyReader(action.command)
        deadline = self._clock() + action.timeout
        outcome = None
        while outcome is None and self._clock() < deadline:
            outcome = reader.feed(self._device.read())
        if outcome is None:
            outcome = reader.give_up()
        # What the reply reader skipped or mended (sloppy readers, issue 17): counted.
        self.counters["skipped_bytes"] += reader.skipped + reader.trailing
        self.counters["repaired_lengths"] += reader.repaired
        return outcome

    def close(self) -> None:
        self._device.close()


def sam_reader(
    config: SamConfig,
    keyring: Keyring,
    *,
    name: str = "idcard",
    backoff: Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
    usb_backend: Any = None,
) -> ThreadedReader:
    """A ReaderPort for a SAM_V reader; `keyring` makes the owner keys.

    `usb_backend` is pyusb's backend for a USB reader (None: libusb-1.0).
    """
    counters: Counter[str] = Counter()  # across sessions: statistics().line
    details: dict[str, str] = {}  # statistics().details: the SAM id once read

    def open_session() -> Session:
        return SamSession(
            open_link(config, usb_backend),
            keyring,
            config,
            name,
            clock,
            counters=counters,
            details=details,
        )

    return ThreadedReader(name, open_session, backoff=backoff, line=counters, details=details)
