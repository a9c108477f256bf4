"""SAM_V framing: preamble, big-endian length, XOR check, and the frame hunt.

    AA AA AA 96 69 | Len1 Len2 | body ... | CHK

Len counts every byte after itself, CHK included: a request body is
CMD Para [Data], a reply body is SW1 SW2 SW3 [Data], so the whole frame is
7 + Len bytes. CHK is the XOR of every byte after the preamble and before
CHK, that is Len1, Len2 and the body (GA 467 as copied by the SAM_V
protocol write-ups; libsamv XORs from offset 5, HslCommunication the same).

There is no byte stuffing: the preamble may in principle appear inside a
frame's data. `earliest_frame` therefore hunts instead of trusting the
first preamble it sees; see its docstring for the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass

from ..errors import UsageError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE = 7  # preamble + Len1 + Len2
MAX_LEN = 0xFFFF


def checksum(data: bytes) -> int:
    result = 0
    for byte in data:
        result ^= byte
    return result


def build_frame(body: bytes) -> bytes:
    length = len(body) + 1  # + CHK
    if length > MAX_LEN:
        raise UsageError(f"a {len(body)}-byte body does not fit a 16-bit Len")
    counted = length.to_bytes(2, "big") + body
    return PREAMBLE + counted + bytes((checksum(counted),))


@dataclass(frozen=True, slots=True)
class Frame:
    start: int  # offset of the preamble in the buffer searched
    end: int  # offset just past CHK
    body: bytes  # between Len and CHK


def earliest_frame(
    buffer: bytes, lengths: Container[int], accept: Callable[[bytes], bool] | None = None
) -> Frame | None:
    """The first valid frame in `buffer`, or None.

    A frame is valid when it starts with the preamble, its Len is one of
    `lengths` (the caller knows what it may receive), all of it is in the
    buffer, its XOR check holds, `accept` (if given) takes its body, and no
    preamble appears inside it. `accept` looks at the body alone, so whether
    a frame is valid still depends on its bytes only.

    The last rule is what keeps a noise header from swallowing the real
    frame that follows it: a frame whose data contains a preamble is taken
    to be a false start, and the inner one is used. Real data contains the
    5-byte preamble with negligible probability: in UCS-2 text any 5-byte
    window holds an aligned AA AA, i.e. U+AAAA (Tai Viet), which no ID
    card carries; in the 1-2 KB of photo and fingerprint data it is about
    2e-9 per read, and the cost is a failed read that the host retries.

    The rule also means valid frames never overlap (the later preamble
    would lie inside the earlier frame), so the first valid frame is the
    one that ends first. Hence the answer does not depend on how the stream
    was chunked: once a frame is complete, no valid frame ends before it.
    """
    start = buffer.find(PREAMBLE)
    while start != -1:
        header_end = start + HEADER_SIZE
        end = header_end + int.from_bytes(buffer[start + 5 : header_end], "big")
        if header_end <= len(buffer) and end - header_end in lengths and end <= len(buffer):
            frame = buffer[start:end]
            body = frame[HEADER_SIZE:-1]
            if (
                checksum(frame[5:-1]) == frame[-1]
                and frame.find(PREAMBLE, 5) == -1
                and (accept is None or accept(body))
            ):
                return Frame(start, end, body)
        start = buffer.find(PREAMBLE, start + 1)
    return None
