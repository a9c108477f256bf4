"""Errors and faults of the wire layer.

Two different things go wrong on a bus, and they are kept apart (h11's
LocalProtocolError / RemoteProtocolError split):

    ProtocolError                 caller misuse: raised
    ├── UsageError                a request that cannot be encoded (bad
    │                             address, out-of-range value, ...)
    └── FrameError                `decode_*` handed a frame that is not one
                                  (only where the caller promised a frame)

    BusFault (a value, never raised)
                                  the peer or the line misbehaved: timeout,
                                  bad CRC, wrong unit, exception reply,
                                  truncated frame, noise, a reply that does
                                  not answer the request
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProtocolError(Exception):
    code = "protocol_error"


class UsageError(ProtocolError, ValueError):
    code = "protocol_usage"


class FrameError(ProtocolError):
    code = "bad_frame"


class FaultKind(StrEnum):
    TIMEOUT = "timeout"
    BAD_CRC = "bad_crc"
    WRONG_UNIT = "wrong_unit"
    EXCEPTION_REPLY = "exception_reply"
    TRUNCATED = "truncated"
    NOISE = "noise"
    MISMATCH = "mismatch"  # a well-formed frame that does not answer the request


@dataclass(frozen=True, slots=True)
class BusFault:
    kind: FaultKind
    detail: str = ""
    exception_code: int | None = None  # set for EXCEPTION_REPLY
    raw: bytes = b""

    def __str__(self) -> str:
        text = self.kind.value
        if self.exception_code is not None:
            text += f" 0x{self.exception_code:02X}"
        return f"{text}: {self.detail}" if self.detail else text
