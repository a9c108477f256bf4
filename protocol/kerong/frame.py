"""Kerong framing: the 8-bit SUM, reply formats, and the host-side reply reader.

Theory of operation. Every Kerong frame starts with STX (0x02) and ends with
a check byte, the low byte of the sum of every byte before it; the frames of
the vendor documents put ETX (0x03) just before it. Nothing in a frame says
its length: the host knows it from the request, as with Modbus RTU. So the
reader is told which reply formats the request may get (`ReplyFormat`: a
length, the address and command bytes to expect, whether ETX is there) and
recognises a reply by content: the first stretch of the buffer that has a
right length, STX, ETX, markers and sum. Bytes before it are noise. Among
several candidates the one that *ends* first wins, so the outcome does not
depend on how the stream was chunked (the Modbus reader's rule).

Where the content cannot say where a frame ends, the reader frames by
silence instead (`silence_framed`): the unlock acknowledgement that one
community driver expects from the CU48's 0x60 firmware variant carries no
ETX (6 bytes, `02 ADDR LOCK 75 00 SUM`), so six bytes of anything that
passes its sum would do. There the caller waits until the line has been
quiet and then calls `give_up()`, which takes the burst as it stands: its
tail must be one whole frame of an expected format (what came before it is
noise), else the burst is a fault (Open-Locker ADR-0061 frames its "8A"
boards the same way).

Faults are values (`BusFault`), as everywhere in `protocol`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import BusFault, FaultKind, UsageError
from ..timing import SerialFormat

STX = 0x02
ETX = 0x03
FACTORY_FORMAT = SerialFormat(19200, "N", 1)  # CU16 / CU48 factory setting
# How long a board may take to answer. No source measures a board; the
# Russian manuals (8lal8/kerongDocs, cu16.md / cu48b.md) give "response time
# under 1 second" ("Время реакции: меньше 1 секунды"), other drivers wait
# 0.1-2 s (jin0949/locker-service 1 s, kerong-lib 1 s, KerongConsole 2 s).
REPLY_ALLOWANCE_S = 1.0
# The unlock time is a board setting. Kerong's advice: 500 ms for
# electromagnetic locks, 1000 ms for motor locks; its tools accept 0..24 000 ms.
UNLOCK_MS_MIN = 100
UNLOCK_MS_MAX = 24_000
UNLOCK_MS_DEFAULT = 500
# Past this many buffered bytes without a reply the line is babbling.
_MAX_BUFFER = 256

R = TypeVar("R")


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The low byte of the sum of `data` (CU48 protocol V2.1: "SUM")."""
    return sum(data) & 0xFF


def seal(body: bytes) -> bytes:
    """`body` (STX .. ETX) followed by its check byte."""
    return body + bytes((checksum(body),))


def sum_ok(frame: bytes | bytearray | memoryview) -> bool:
    return len(frame) >= 2 and checksum(frame[:-1]) == frame[-1]


def check_board(board: int, highest: int, *, broadcast: int | None = None) -> None:
    """`board` is an address 0..`highest` (each board's codec says its range)."""
    if 0 <= board <= highest or (broadcast is not None and board == broadcast):
        return
    extra = f" or {broadcast:#04x} (broadcast)" if broadcast is not None else ""
    raise UsageError(f"board address {board} is outside 0..{highest}{extra}")


@dataclass(frozen=True, slots=True)
class ReplyFormat(Generic[R]):
    """One kind of reply a request may get.

    `address` is compared with frame[1] under `address_mask` (the CU16 puts
    the lock number in the low nibble of its address byte). `markers` are
    (index, value) pairs the frame must carry, such as the reply command.
    `parse` turns a frame that passed every check into the reply value.
    """

    length: int
    address: int
    markers: tuple[tuple[int, int], ...]
    parse: Callable[[bytes], R | BusFault]
    address_mask: int = 0xFF
    etx: bool = True

    def shape_ok(self, frame: bytes) -> bool:
        """Everything but the address: STX, ETX, markers, sum."""
        if len(frame) != self.length or frame[0] != STX or not sum_ok(frame):
            return False
        if self.etx and frame[-2] != ETX:
            return False
        return all(frame[i] == value for i, value in self.markers)

    def ours(self, frame: bytes) -> bool:
        return (frame[1] & self.address_mask) == (self.address & self.address_mask)


@dataclass(frozen=True, slots=True)
class _Candidate(Generic[R]):
    start: int
    end: int
    outcome: R | BusFault


class KerongReader(Generic[R]):
    """Collects the reply to one request. Feed it bytes as they arrive."""

    def __init__(self, formats: tuple[ReplyFormat[R], ...], *, silence_framed: bool) -> None:
        if not formats:
            raise UsageError("a reader needs at least one reply format")
        self.formats = formats
        self.silence_framed = silence_framed
        self._buffer = bytearray()
        self._result: R | BusFault | None = None

    @property
    def received(self) -> bytes:
        return bytes(self._buffer)

    def feed(self, data: bytes) -> R | BusFault | None:
        """The outcome once content settles it, else None (need more bytes,
        or, silence-framed, the caller's silence)."""
        if self._result is not None:
            return self._result
        self._buffer += data
        if len(self._buffer) > _MAX_BUFFER:
            raw = bytes(self._buffer[:64])
            self._result = BusFault(FaultKind.NOISE, "no reply in a stream of garbage", raw=raw)
        elif not self.silence_framed:
            best = self._earliest(bytes(self._buffer))
            if best is not None:
                self._result = best.outcome
        return self._result

    def give_up(self) -> R | BusFault:
        """The wait is over (timeout, or silence after a silence-framed reply):
        the outcome from what was received."""
        if self._result is not None:
            return self._result
        buf = bytes(self._buffer)
        if not buf:
            return BusFault(FaultKind.TIMEOUT, "no reply")
        if self.silence_framed:
            for fmt in self.formats:
                tail = buf[-fmt.length :]
                if len(buf) >= fmt.length and fmt.shape_ok(tail):
                    return self._outcome(fmt, tail)
        return self._diagnose(buf)

    # -- internals --

    def _earliest(self, buf: bytes) -> _Candidate[R] | None:
        best: _Candidate[R] | None = None
        for start in range(len(buf)):
            if buf[start] != STX:
                continue
            for fmt in self.formats:
                end = start + fmt.length
                if end > len(buf) or (best is not None and (end, start) >= (best.end, best.start)):
                    continue
                frame = buf[start:end]
                if fmt.shape_ok(frame):
                    best = _Candidate(start, end, self._outcome(fmt, frame))
        return best

    def _outcome(self, fmt: ReplyFormat[R], frame: bytes) -> R | BusFault:
        if not fmt.ours(frame):
            return BusFault(
                FaultKind.WRONG_UNIT,
                f"reply from address 0x{frame[1]:02X}, expected 0x{fmt.address:02X}",
                raw=frame,
            )
        return fmt.parse(frame)

    def _diagnose(self, buf: bytes) -> BusFault:
        """Why the bytes received are not a reply: cut short, a bad sum, or noise."""
        for start in range(len(buf)):
            if buf[start] != STX:
                continue
            rest = buf[start:]
            for fmt in self.formats:
                if len(rest) < fmt.length and fmt.ours(rest + bytes(2)):
                    return BusFault(
                        FaultKind.TRUNCATED, f"{len(rest)} of {fmt.length} bytes", raw=buf
                    )
                frame = rest[: fmt.length]
                if len(frame) == fmt.length and fmt.ours(frame) and not sum_ok(frame):
                    return BusFault(FaultKind.BAD_CRC, "reply failed its sum check", raw=buf)
        return BusFault(FaultKind.NOISE, "no reply header in the received bytes", raw=buf[:64])


def read_frame(reader: KerongReader[R], frame: bytes) -> R | BusFault:
    """Outcome of a complete captured reply (tests, sniffers, tools)."""
    return reader.feed(frame) or reader.give_up()
