"""The SAM_V card reader on a serial port (second-generation ID cards, GA 467).

The cycle (find -> select -> read, card removal, retries) is `sam_cycle`;
this is its shell: one exchange at a time over a `SerialDevice`, the
protocol's `ReplyReader` for the bytes, the monotonic clock for timeouts.
Stale input is discarded before each command, so a late reply to the last
command (a bare status fits every command) is not taken for this one's.

Readers default to 115200 8N1 and can be set to 57600 ... 9600
(id-card-reader.md); `SamConfig.serial` says what this one uses.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from locker_host.domain import Keyring
from protocol import idcard

from .model import Reading
from .runner import Backoff, Session, ThreadedReader
from .sam_cycle import Exchange, SamCycle, SamTiming
from .serial_port import SerialDevice, SerialSettings

# The largest reply the cycle asks for: 30 01, text + photo (1295 bytes).
_READ_REPLY_BYTES = 1295
_IDLE_SLICE = 0.25  # seconds one poll may idle: keeps stop() prompt


@dataclass(frozen=True)
class SamConfig:
    serial: SerialSettings
    timing: SamTiming = field(default_factory=SamTiming)


class SamSession:
    def __init__(
        self,
        device: SerialDevice,
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
        wire = config.serial.format.wire_time(_READ_REPLY_BYTES)
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
) -> ThreadedReader:
    """A ReaderPort for a SAM_V reader; `keyring` makes the owner keys."""
    counters: Counter[str] = Counter()  # across sessions: statistics().line
    details: dict[str, str] = {}  # statistics().details: the SAM id once read

    def open_session() -> Session:
        device = SerialDevice.open(config.serial)
        return SamSession(device, keyring, config, name, clock, counters=counters, details=details)

    return ThreadedReader(name, open_session, backoff=backoff, line=counters, details=details)
