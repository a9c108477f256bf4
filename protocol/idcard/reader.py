"""Host side: collect the reader's reply to one command.

Theory of operation. The host sends one command and waits for one reply.
Drivers read 7 header bytes, then Len more, then check the XOR; that trusts
the first preamble, so one noise header (or a stale reply's tail) costs the
whole exchange. Here the reader hunts instead (`frame.earliest_frame`): it
knows the command, hence every Len its reply may have (`replies.
reply_lengths`), and accepts the first frame in the stream that has such a
Len, a good XOR and no preamble inside it. Bytes before it are noise. A
late reply to an earlier command is skipped when its Len does not fit this
one; a bare status (Len 4) fits every command, so the protocol itself
cannot tell a late "no card" from a fresh one.

The caller owns the clock. It feeds bytes as they arrive and, when its own
timeout expires (field drivers allow 0.2-1 s for find and select and
1-2 s for a read; the 2321-byte reply alone takes 0.2 s at 115200), asks
`give_up()` what went wrong. Every outcome - a reply, a status such as
"no card", a fault - is a value; peer bytes never raise.

At most `MAX_BUFFER` bytes are examined (twice the largest reply frame);
past that the line is babbling and the outcome is NOISE. Frames must end
within that window, which keeps the outcome independent of chunking.

Sloppy readers (issue 17): whatever precedes the accepted frame was noise
and is counted in `skipped`, bytes after it in the same chunk in
`trailing`. A frame whose Len byte was corrupted on the way cannot be
delimited while bytes still arrive, so at the deadline `give_up()` tries
the last frame start once more: when the bytes from it to the end of the
buffer (or to one junk byte before it) would make a documented reply of
another Len, that Len is put back and the XOR, which covers Len, decides;
the frame is then decoded (`repaired` is True). Repairing only at the
deadline, and only a frame that reaches the end of what arrived, keeps a
noise header from ever winning over a real reply that is still on its way.
"""

from __future__ import annotations

from ..errors import UsageError
from .commands import Command
from .faults import ReaderFault, ReaderFaultKind
from .frame import HEADER_SIZE, PREAMBLE, checksum, earliest_frame
from .replies import (
    FINGERPRINT_SIZES,
    PHOTO_SIZE,
    STATUS_LEN,
    Reply,
    accepts,
    interpret,
    reply_lengths,
    usual_reply_lengths,
)
from .text_block import BLOCK_SIZE

# 2321 bytes: the 30 10 reply with two fingerprint templates.
MAX_REPLY_FRAME = HEADER_SIZE + STATUS_LEN + 6 + BLOCK_SIZE + PHOTO_SIZE + max(FINGERPRINT_SIZES)
MAX_BUFFER = 2 * MAX_REPLY_FRAME
_HEADER_KEPT = 10  # preamble, Len, SW1-SW3: never payload (see faults.py)


class ReplyReader:
    """Collects the reply to one command. Feed it bytes as they arrive."""

    def __init__(self, command: Command) -> None:
        self.command = command
        self._lengths = reply_lengths(command)  # raises UsageError for a non-command
        self._buffer = bytearray()
        self._result: Reply | ReaderFault | None = None
        self.skipped = 0  # bytes before the accepted frame (noise, a stale reply)
        self.trailing = 0  # bytes after it, received with it
        self.repaired = False  # decoded at the deadline with its Len restored

    def _accepts(self, body: bytes) -> bool:
        return accepts(self.command, body)

    def feed(self, data: bytes) -> Reply | ReaderFault | None:
        """The outcome once it is known, else None (more bytes needed)."""
        if self._result is not None:
            return self._result
        self._buffer += data[: MAX_BUFFER - len(self._buffer)]
        buffer = bytes(self._buffer)
        frame = earliest_frame(buffer, self._lengths, self._accepts)
        if frame is not None:
            self.skipped, self.trailing = frame.start, len(buffer) - frame.end
            self._result = interpret(self.command, frame.body)
        elif len(buffer) >= MAX_BUFFER:
            self._result = ReaderFault(ReaderFaultKind.NOISE, f"no reply in {len(buffer)} bytes")
        return self._result

    def give_up(self) -> Reply | ReaderFault:
        """The wait is over: a reply whose Len was corrupted, or what went wrong."""
        if isinstance(self._result, ReaderFault):
            return self._result
        if self._result is not None:
            raise UsageError("give_up() after a reply was already returned")
        buffer = bytes(self._buffer)
        repaired = self._repaired(buffer)
        if repaired is not None:
            self._result = repaired
            return repaired
        return self._fault(buffer)

    def _repaired(self, buffer: bytes) -> Reply | ReaderFault | None:
        start = buffer.rfind(PREAMBLE)
        if start == -1:
            return None
        given = int.from_bytes(buffer[start + 5 : start + HEADER_SIZE], "big")
        for trailing in (0, 1):
            end = len(buffer) - trailing
            length = end - start - HEADER_SIZE
            if length == given or length not in usual_reply_lengths(self.command):
                continue
            counted = length.to_bytes(2, "big") + buffer[start + HEADER_SIZE : end - 1]
            body = counted[2:]
            if checksum(counted) == buffer[end - 1] and self._accepts(body):
                self.skipped, self.trailing, self.repaired = start, trailing, True
                return interpret(self.command, body)
        return None

    def _fault(self, buffer: bytes) -> ReaderFault:
        if not buffer:
            return ReaderFault(ReaderFaultKind.TIMEOUT, "no reply")
        start = buffer.rfind(PREAMBLE)
        if start == -1:
            if any(buffer.endswith(PREAMBLE[:n]) for n in range(1, len(PREAMBLE))):
                return ReaderFault(ReaderFaultKind.TRUNCATED, "the preamble was cut short")
            return ReaderFault(ReaderFaultKind.NOISE, f"{len(buffer)} bytes without a preamble")
        # The last preamble is the likeliest start of the reply: noise comes first.
        frame = buffer[start:]
        header = frame[:_HEADER_KEPT]
        if len(frame) < HEADER_SIZE:
            return ReaderFault(ReaderFaultKind.TRUNCATED, "the header was cut short", header)
        length = int.from_bytes(frame[5:HEADER_SIZE], "big")
        if length not in self._lengths:
            return ReaderFault(
                ReaderFaultKind.BAD_LENGTH,
                f"Len {length} fits no reply to {type(self.command).__name__}",
                header,
            )
        if len(frame) < HEADER_SIZE + length:
            return ReaderFault(
                ReaderFaultKind.TRUNCATED,
                f"{len(frame)} of {HEADER_SIZE + length} bytes received",
                header,
            )
        end = HEADER_SIZE + length
        if checksum(frame[5 : end - 1]) != frame[end - 1]:
            return ReaderFault(ReaderFaultKind.BAD_CHECKSUM, "the XOR check failed", header)
        if not self._accepts(frame[HEADER_SIZE : end - 1]):
            return ReaderFault(
                ReaderFaultKind.BAD_LENGTH,
                f"SW3 0x{frame[9]:02X} with {length - STATUS_LEN} data bytes"
                f" answers no {type(self.command).__name__}",
                header,
            )
        # Unreachable while earliest_frame accepts every complete, checked, accepted
        # frame without an inner preamble; kept so that give_up() always answers.
        return ReaderFault(ReaderFaultKind.NOISE, "no acceptable frame", header)


def decode_reply(command: Command, frame: bytes) -> Reply | ReaderFault:
    """Outcome of a complete captured reply (tests, sniffers, tools)."""
    reader = ReplyReader(command)
    return reader.feed(frame) or reader.give_up()
