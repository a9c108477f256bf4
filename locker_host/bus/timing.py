"""How long to stay silent before a request, and how long to wait for a reply.

Modbus over Serial Line V1.02, 2.5.1.1: frames are separated by at least
t3.5 of silence, which pymodbus does not enforce (its issue #2827), so the
bus owner does; some firmware needs more (`min_gap`, modbus-timing 1.4).

Response timeout (modbus-timing 1.3), counted from the moment the request
was handed to the driver (for any family: the sizes come from the exchange):

    request on the wire + t3.5 (the board sees the frame end)
    + the board's processing (`slave_allowance`)
    + the reply on the wire + the adapter's buffering (`adapter_allowance`)

With the defaults (30 ms + 16 ms) and a 24-channel status poll that is 88 ms
at 9600 8E1, 67 ms at 19200 and 51 ms at 115200: short enough that a dead
board costs little, long enough for an untuned FTDI adapter.
"""

from __future__ import annotations

from protocol.timing import SerialFormat


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


def frame_silence(fmt: SerialFormat, adapter_allowance: float) -> float:
    """How long the line must stay quiet before a silence-framed reply is
    taken as complete: t3.5, plus the adapter's buffering, since a USB
    adapter may hold the rest of a frame back that long (modbus-timing 2.3)."""
    return fmt.t35 + adapter_allowance
