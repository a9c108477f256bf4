"""Bytes in, one token per line out: shared by the serial line and HID readers.

A scanner or a keyboard-style reader sends a token and a terminator (CR, LF,
CR LF, or Tab on some scanners). Two things go wrong on real lines: a burst
of noise, or a reader unplugged halfway through a token, leaves a fragment
that would otherwise be glued to the front of the next token; and a stuck
key or a babbling line never ends a token. So a fragment older than
`idle_timeout` (seconds, monotonic clock) is dropped when the next byte
comes, and a token longer than `max_length` is swallowed up to its
terminator and reported as `TooLong`. Empty lines (the LF of a CR LF) are
skipped. Pure: the caller passes `now`.
"""

from __future__ import annotations

from dataclasses import dataclass

TERMINATORS = b"\r\n\t"


@dataclass(frozen=True, slots=True)
class TooLong:
    length: int  # bytes received before the terminator


class TokenAssembler:
    def __init__(self, *, max_length: int = 64, idle_timeout: float = 1.0) -> None:
        self.max_length = max_length
        self.idle_timeout = idle_timeout
        self.stale_fragments = 0  # fragments dropped for silence
        self._buffer = bytearray()
        self._length = 0  # including bytes swallowed past max_length
        self._last_at: float | None = None

    def feed(self, data: bytes, now: float) -> list[bytes | TooLong]:
        if self._length and self._last_at is not None and now - self._last_at > self.idle_timeout:
            self.stale_fragments += 1
            self._reset()
        if data:
            self._last_at = now
        out: list[bytes | TooLong] = []
        for byte in data:
            if byte in TERMINATORS:
                if self._length > self.max_length:
                    out.append(TooLong(self._length))
                elif self._length:
                    out.append(bytes(self._buffer))
                self._reset()
                continue
            self._length += 1
            if self._length <= self.max_length:
                self._buffer.append(byte)
        return out

    def _reset(self) -> None:
        self._buffer.clear()
        self._length = 0
