"""One Modbus transaction on an open port: silence, request, reply or fault.

1. Wait until the line has been silent for the inter-frame gap, measured
   from the last byte received (or the estimated end of our last request),
   discarding stray bytes (noise, the late reply of an earlier request).
2. Write the request once.
3. Feed what arrives to a `ReplyReader` until it names an outcome or the
   response timeout passes; then `give_up()` says why (timeout, bad CRC,
   truncated, noise). Faults are values; only a lost port raises. The
   transport is told how many bytes the expected reply has, so that it
   hands them over at once rather than chunk by chunk (it still hands over
   a shorter reply, an exception, once the line falls silent).

A well-formed reply from another unit is most often a late reply to an
earlier request, so it is set aside and the wait for our own reply goes on;
if none comes, the transaction's outcome is that wrong-unit fault.

Nothing here retries: the bus owner decides, and never for a write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from protocol import BusFault, FaultKind
from protocol.modbus import Reply, ReplyReader, Request, encode_request, reply_length

from .transport import SerialTransport

# A bus sends the same few requests all day (one status read per board, a
# few writes): their frames, CRC included, are encoded once.
_frame = lru_cache(maxsize=1024)(encode_request)


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: Reply | BusFault
    sent_at: float  # monotonic, when the request was handed to the driver
    round_trip: float | None  # sent_at -> the byte that completed a valid reply
    gap: float  # the silence actually left before the request, on our clock
    stray_bytes: int  # discarded while waiting for silence
    noise_bytes: int  # received around a valid reply


async def transact(
    transport: SerialTransport,
    unit: int,
    request: Request,
    *,
    gap: float,
    timeout: float,
    clock: Callable[[], float],
) -> Attempt:
    frame = _frame(unit, request)
    stray = await transport.wait_quiet(gap)
    left = clock() - transport.quiet_since
    sent_at = transport.write(frame)
    deadline = sent_at + timeout
    reader = ReplyReader(unit, request)
    set_aside: BusFault | None = None
    received = 0
    expected = reply_length(request)
    while True:
        data = await transport.receive(deadline, max(1, expected - received))
        if not data:
            return Attempt(set_aside or reader.give_up(), sent_at, None, left, stray, 0)
        received += len(data)
        outcome = reader.feed(data)
        while isinstance(outcome, BusFault) and outcome.kind is FaultKind.WRONG_UNIT:
            set_aside = set_aside or outcome
            rest = reader.received
            rest = rest[rest.find(outcome.raw) + len(outcome.raw) :]
            received = len(rest)
            reader = ReplyReader(unit, request)
            outcome = reader.feed(rest)
        if outcome is None:
            continue
        if isinstance(outcome, BusFault):
            return Attempt(outcome, sent_at, None, left, stray, 0)
        noise = max(0, received - reply_length(request))
        return Attempt(outcome, sent_at, transport.last_rx - sent_at, left, stray, noise)
