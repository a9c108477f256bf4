"""The serial port's life: opened, lost, reopened with back-off.

A port that cannot be opened (`PortUnavailable`) or fails while open
(`PortLost`) is closed and tried again after a back-off that doubles from
`initial` up to `maximum`. The back-off resets only when the port has proved
itself with a valid reply (`proved()`), not when it merely opens: a device
node that opens and fails at once must not make the owner spin. The retry
budget is per outage, not per process (Open-Locker ADR-0051).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from protocol.timing import SerialFormat

from .errors import PortError, PortLost, PortUnavailable
from .statistics import Recorder
from .transport import SerialTransport

log = logging.getLogger(__name__)

PortOpener = Callable[[str, SerialFormat], SerialTransport]


class PortKeeper:
    def __init__(
        self,
        path: str,
        fmt: SerialFormat,
        *,
        initial: float,
        maximum: float,
        opener: PortOpener,
        stats: Recorder,
    ) -> None:
        self.path = path
        self.format = fmt
        self.transport: SerialTransport | None = None
        self.error: PortError | None = None
        self.reopen_at = 0.0
        self._initial = initial
        self._maximum = maximum
        self._backoff = initial
        self._opener = opener
        self._stats = stats

    def due(self, now: float) -> bool:
        return self.transport is None and now >= self.reopen_at

    def open(self, now: float, on_lost: Callable[[], None]) -> SerialTransport:
        """Raises `PortUnavailable`, after scheduling the next attempt."""
        try:
            transport = self._opener(self.path, self.format)
        except PortUnavailable as error:
            self._failed(error, now)
            raise
        transport.on_lost = on_lost
        self.transport = transport
        self._stats.port_opened(transport.low_latency)
        log.info("%s opened (low latency mode: %s)", self.path, transport.low_latency)
        return transport

    def lost(self, error: PortLost, now: float) -> None:
        self.close()
        self._failed(error, now)

    def proved(self) -> None:
        self._backoff = self._initial
        self.error = None

    def close(self) -> None:
        transport, self.transport = self.transport, None
        if transport is not None:
            transport.close()
            self._stats.port_closed()

    def describe(self) -> str:
        return "port down" if self.error is None else f"port down: {self.error}"

    def _failed(self, error: PortError, now: float) -> None:
        if self.error is None or type(error) is not type(self.error):
            log.warning("%s", error)  # once per change, not once per retry
        self.error = error
        self._stats.port_failed(error)
        self.reopen_at = now + self._backoff
        self._backoff = min(2 * self._backoff, self._maximum)
