"""The RTU slave framer: where one request ends, and whether it arrived whole.

Modbus over Serial Line V1.02, 2.5.1.1: a frame ends after at least 3.5
character times of silence (t3.5); a silence of more than 1.5 character
times inside a frame (t1.5) makes the frame incomplete, and the slave must
discard it. Above 19200 bps the spec fixes t1.5 = 750 us and t3.5 = 1750 us.

The UART hands bytes over in chunks, each stamped with the tick at which
the main loop read it. The last byte of a chunk arrived at about that tick,
the first one (n - 1) character times earlier, so the silence before a
chunk is estimated as (now - n x char time) - end of the previous chunk.
A chunk that follows the pending frame by t3.5 or more belongs to the next
frame: the caller serves the pending one first (`ended`). A main loop that
reads less often than every t3.5 cannot tell two frames apart; they then
fail the CRC together and the master repeats (docs/firmware.md, timing).

Nothing here allocates after construction: bytes are copied into one
bounded buffer (256 bytes, the longest RTU frame, 2.5.1), and a frame longer
than that is marked broken and discarded whole.
"""

from .ticks import diff

FRAME_MAX = 256


class RtuFramer:
    def __init__(self) -> None:
        self.buf = bytearray(FRAME_MAX)
        self.length = 0
        self.broken = False
        self.char_us = 573  # 19200 8E1 until configure()
        self.t15_us = 859
        self.t35_us = 2005
        self.last = 0  # tick of the last byte of the frame so far

    def configure(self, baud: int, bits_per_char: int) -> None:
        self.char_us = 1_000_000 * bits_per_char // baud
        if baud > 19200:
            self.t15_us = 750
            self.t35_us = 1750
        else:
            self.t15_us = 1_500_000 * bits_per_char // baud
            self.t35_us = 3_500_000 * bits_per_char // baud

    def ended(self, now: int, incoming: int) -> bool:
        """A frame is pending and t3.5 of silence followed it (before the
        `incoming` bytes just read, if any)."""
        if self.length == 0:
            return False
        return diff(now, self.last) - incoming * self.char_us >= self.t35_us

    def feed(self, chunk: bytearray, n: int, now: int) -> None:
        if self.length == 0:
            self.broken = False
        elif diff(now, self.last) - n * self.char_us > self.t15_us:
            self.broken = True  # 2.5.1.1: a gap of more than t1.5 inside the frame
        room = FRAME_MAX - self.length
        if n > room:
            self.broken = True
            n = room
        buf = self.buf
        base = self.length
        for i in range(n):
            buf[base + i] = chunk[i]
        self.length = base + n
        self.last = now

    def clear(self) -> None:
        self.length = 0
        self.broken = False
