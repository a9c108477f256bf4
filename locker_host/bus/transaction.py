"""One transaction on an open port: silence, request, reply or fault.

1. Wait until the line has been silent for the inter-frame gap, measured
   from the last byte received (or the estimated end of our last request),
   discarding stray bytes (noise, the late reply of an earlier request).
2. Write the request once. An exchange that expects no reply ends here,
   after the time a reply would have taken (the response timeout): nothing
   says when the board has taken the frame in, and a next frame sent a
   mere t3.5 later can run into a board still busy with it, or reach it
   glued to this one through an adapter's buffering.
3. Feed what arrives to the exchange's reader until it names an outcome or
   the response timeout passes; then `give_up()` says why (timeout, bad
   check, truncated, noise). A silence-framed reply (drivers/port.py) ends
   where the line has been quiet for `silence` after its last byte; the
   reader then frames what it got. Faults are values; only a lost port raises.
   The transport is told how many bytes a content-framed reply has, so that
   it hands them over at once rather than chunk by chunk (a shorter reply,
   an exception, still comes once the line falls silent for t1.5).
   A content-framed reply's worth of bytes that names no outcome (a bad
   check byte) is given up on once the line has been quiet for `silence`,
   not at the timeout: with a slow board's long timeout (Kerong: 1 s) a
   garbled reply would otherwise hold the bus that long. An optional reply
   (drivers/port.py) that does not come at all is no fault: the outcome is
   `Sent`, as for an exchange that expects none.

A well-formed reply from another unit is most often a late reply to an
earlier request, so it is set aside and the wait for our own reply goes on;
if none comes, the transaction's outcome is that wrong-unit fault.

Nothing here retries: the bus owner decides, and never for a write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from protocol import BusFault, FaultKind

from .drivers import WireExchange
from .transport import SerialTransport


@dataclass(frozen=True, slots=True)
class Sent:
    """The outcome of an exchange that expects no reply: it went out."""


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: object  # the reader's reply, a BusFault, or Sent
    sent_at: float  # monotonic, when the request was handed to the driver
    round_trip: float | None  # sent_at -> the byte that completed a valid reply
    gap: float  # the silence actually left before the request, on our clock
    stray_bytes: int  # discarded while waiting for silence
    noise_bytes: int  # received around a valid reply


async def transact(
    transport: SerialTransport,
    exchange: WireExchange[Any],
    *,
    gap: float,
    timeout: float,
    silence: float,
    clock: Callable[[], float],
) -> Attempt:
    frame = exchange.encode()
    stray = await transport.wait_quiet(gap)
    left = clock() - transport.quiet_since
    sent_at = transport.write(frame)
    if not exchange.expects_reply:
        await asyncio.sleep(max(0.0, sent_at + timeout - clock()))
        return Attempt(Sent(), sent_at, None, left, stray, 0)
    deadline = sent_at + timeout
    reader = exchange.reader()
    set_aside: BusFault | None = None
    received = 0
    # Content-framed replies have a known length; silence-framed ones end on silence.
    expected = 1 if exchange.silence_framed else exchange.reply_bytes
    while True:
        until = deadline
        if exchange.silence_framed and reader.received:
            until = transport.last_rx + silence
        elif len(reader.received) >= exchange.reply_bytes > 0:
            # A whole reply's worth came and did not check out (a bad sum):
            # once the line is quiet the board has said all it will.
            until = min(deadline, transport.last_rx + silence)
        data = await transport.receive(until, max(1, expected - received))
        if data:
            received += len(data)
            outcome = reader.feed(data)
            while isinstance(outcome, BusFault) and outcome.kind is FaultKind.WRONG_UNIT:
                set_aside = set_aside or outcome
                rest = reader.received
                rest = rest[rest.find(outcome.raw) + len(outcome.raw) :]
                received = len(rest)
                reader = exchange.reader()
                outcome = reader.feed(rest)
            if outcome is None:
                continue
        else:  # the timeout, or the silence that ends a silence-framed reply
            outcome = reader.give_up()
            if isinstance(outcome, BusFault):
                if exchange.reply_optional and not reader.received and set_aside is None:
                    return Attempt(Sent(), sent_at, None, left, stray, 0)
                outcome = set_aside or outcome
        if isinstance(outcome, BusFault):
            return Attempt(outcome, sent_at, None, left, stray, 0)
        noise = max(0, received - exchange.reply_bytes)
        return Attempt(outcome, sent_at, transport.last_rx - sent_at, left, stray, noise)
