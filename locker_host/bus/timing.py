"""How long to stay silent before a request, and how long to wait for a reply.

Modbus over Serial Line V1.02, 2.5.1.1: frames are separated by at least
t3.5 of silence, which pymodbus does not enforce (its issue #2827), so the
bus owner does; some firmware needs more (`min_gap`, modbus-timing 1.4).

Response timeout (modbus-timing 1.3), counted from the moment the request
was handed to the driver (for any family: the sizes come from the exchange):

    request on the wire + t3.5 (the board sees the frame end)
    + the board's processing (`slave_allowance`)
    + the reply on the wire + the adapter's buffering (`adapter_allowance`)

The board's processing is the family's `reply_allowance` where its
registry entry gives one (Kerong: 1 s, the vendor's "response time under
1 s", since no source measures a board and a slow board must not be taken
for a dead one), else `PROMPT_REPLY_ALLOWANCE`. A bus's `slave_allowance`
overrides both. With 30 ms + 16 ms and a 24-channel status poll that is 88
ms at 9600 8E1, 67 ms at 19200 and 51 ms at 115200: short enough that a
dead board costs little, long enough for an untuned FTDI adapter.

A request that needs no reply (a Kerong unlock: never answered, or answered
only by some firmware) waits `unanswered_wait` before the next frame goes
out: what a board answering promptly would take. That is not a response
timeout: nothing is lost when a slow board answers later, since the next
transaction discards stray bytes while it waits for silence, and a status
reply it reads is as good as any.
"""

from __future__ import annotations

from protocol.timing import SerialFormat

# A board that answers at once: a Modbus slave's processing (modbus-timing 1.3).
PROMPT_REPLY_ALLOWANCE = 0.030


def inter_frame_gap(fmt: SerialFormat, min_gap: float) -> float:
    return max(fmt.t35, min_gap)


def response_timeout(
    fmt: SerialFormat,
    request_bytes: int,
    reply_bytes: int,
    *,
    slave_allowance: float,
    adapter_allowance: float,
) -> float:
    wire = fmt.wire_time(request_bytes + reply_bytes)
    return wire + fmt.t35 + slave_allowance + adapter_allowance


def unanswered_wait(
    fmt: SerialFormat, request_bytes: int, reply_bytes: int, *, adapter_allowance: float
) -> float:
    """After a request that needs no reply: the time a prompt board's reply would take."""
    return response_timeout(
        fmt,
        request_bytes,
        reply_bytes,
        slave_allowance=PROMPT_REPLY_ALLOWANCE,
        adapter_allowance=adapter_allowance,
    )


def frame_silence(fmt: SerialFormat, adapter_allowance: float) -> float:
    """How long the line must stay quiet before a silence-framed reply is
    taken as complete: t3.5, plus the adapter's buffering, since a USB
    adapter may hold the rest of a frame back that long (modbus-timing 2.3)."""
    return fmt.t35 + adapter_allowance
