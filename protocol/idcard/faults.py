"""What can go wrong with a reply from the reader: a value, never raised.

A reply from the card reader is peer data, so its defects come back as a
`ReaderFault` (the peer misbehaved), while caller misuse raises
`protocol.errors.UsageError` (see `protocol/errors.py` for that split).

A read-card reply carries the citizen's name, ID number and photo. A fault
may end up in a log, so it never holds payload bytes: `header` keeps at most
the preamble, Len and SW1 SW2 SW3 of the offending frame, and `detail`
names fields and lengths, never their contents.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReaderFaultKind(StrEnum):
    TIMEOUT = "timeout"  # nothing at all arrived
    NOISE = "noise"  # bytes arrived, but no frame preamble among them
    TRUNCATED = "truncated"  # a frame started and stopped short
    BAD_LENGTH = "bad_length"  # Len (or a length inside the data) does not fit the command
    BAD_CHECKSUM = "bad_checksum"  # the XOR check failed
    BAD_TEXT = "bad_text"  # the card's text block does not decode


@dataclass(frozen=True, slots=True)
class ReaderFault:
    kind: ReaderFaultKind
    detail: str = ""
    header: bytes = b""  # at most the first 10 bytes of the frame: no personal data

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.detail}" if self.detail else self.kind.value
