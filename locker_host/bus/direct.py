"""A Modbus port without an owner: one request at a time, for the technician's tools.

Scanning a bus for units and moving a board to another address are things
the bus owner never does (it knows its boards from the configuration), and
they run while the daemon is stopped, so commissioning opens the port
itself. It gets the owner's serial stack, not a second one: the transport
(exclusive open; pyserial's errors translated by errno, transport.py), the
transaction (the inter-frame silence before every request, the reply read
until it names an outcome or the response timeout passes, a late reply from
another unit set aside) and the same timing rules (timing.py). There is no
polling, no health and no retry: the caller decides what a fault means.

Faults are values; only the port raises: `PortUnavailable` when it cannot
be opened, `PortLost` when it fails while open.
"""

from __future__ import annotations

import time

from protocol import BusFault
from protocol.modbus import Reply, Request
from protocol.timing import SerialFormat

from .drivers import Exchange
from .timing import frame_silence, inter_frame_gap, response_timeout
from .transaction import transact
from .transport import SerialTransport


class DirectLine:
    def __init__(self, transport: SerialTransport, min_gap: float) -> None:
        self._transport = transport
        self.path = transport.path
        self.format = transport.format
        self._gap = inter_frame_gap(transport.format, min_gap)

    @classmethod
    def open(cls, path: str, fmt: SerialFormat, *, min_gap: float = 0.0) -> DirectLine:
        """Call from the event loop's thread. Raises `PortUnavailable`."""
        return cls(SerialTransport.open(path, fmt), min_gap)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> DirectLine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def transact(self, unit: int, request: Request, *, allowance: float) -> Reply | BusFault:
        """`allowance`: the board's processing and the adapter's buffering
        together, on top of both frames' wire time and t3.5. Raises `PortLost`."""
        exchange = Exchange(unit, request)
        timeout = response_timeout(
            self.format,
            exchange.request_bytes,
            exchange.reply_bytes,
            slave_allowance=allowance,
            adapter_allowance=0.0,
        )
        attempt = await transact(
            self._transport,
            exchange,
            gap=self._gap,
            timeout=timeout,
            silence=frame_silence(self.format, 0.0),  # unused: RTU is framed by content
            clock=time.monotonic,
        )
        outcome = attempt.outcome
        assert isinstance(outcome, Reply | BusFault), outcome  # an Exchange expects a reply
        return outcome
