"""Serial character timing and the theoretical wire time of a transaction.

Modbus over Serial Line V1.02, section 2.5.1.1: frames are separated by at
least 3.5 character times of silence (t3.5) and a gap of more than 1.5
character times inside a frame (t1.5) makes it incomplete. Above 19200 bps
the spec fixes t1.5 = 750 us and t3.5 = 1750 us. A character is start bit +
data bits + parity bit (if any) + stop bits: 11 bits for 8E1 and 8N2, 10 for
8N1.

Everything here is a pure function of the serial format; durations are in
seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Parity = Literal["N", "E", "O"]

_FIXED_T15 = 0.000750
_FIXED_T35 = 0.001750
_FIXED_TIMER_ABOVE_BAUD = 19200


@dataclass(frozen=True, slots=True)
class SerialFormat:
    baud: int = 19200
    parity: Parity = "E"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8

    def __post_init__(self) -> None:
        if self.baud <= 0:
            raise ValueError(f"baud must be positive, got {self.baud}")
        if self.parity not in ("N", "E", "O"):
            raise ValueError(f"parity must be N, E or O, got {self.parity!r}")
        if self.stopbits not in (1, 2):
            raise ValueError(f"stopbits must be 1 or 2, got {self.stopbits!r}")
        if self.bytesize not in (7, 8):
            raise ValueError(f"bytesize must be 7 or 8, got {self.bytesize!r}")

    @classmethod
    def parse(cls, baud: int, frame: str) -> SerialFormat:
        """`frame` is the usual short form such as "8E1", "8N1" or "8N2"."""
        if len(frame) != 3 or frame[0] not in "78" or frame[1] not in "NEO" or frame[2] not in "12":
            raise ValueError(f"serial frame format must look like 8E1, 8N1 or 8N2, got {frame!r}")
        return cls(
            baud=baud,
            parity=frame[1],  # type: ignore[arg-type]
            stopbits=int(frame[2]),  # type: ignore[arg-type]
            bytesize=int(frame[0]),  # type: ignore[arg-type]
        )

    @property
    def name(self) -> str:
        return f"{self.bytesize}{self.parity}{self.stopbits}"

    @property
    def bits_per_char(self) -> int:
        return 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits

    @property
    def char_time(self) -> float:
        return self.bits_per_char / self.baud

    @property
    def t15(self) -> float:
        if self.baud > _FIXED_TIMER_ABOVE_BAUD:
            return _FIXED_T15
        return 1.5 * self.char_time

    @property
    def t35(self) -> float:
        if self.baud > _FIXED_TIMER_ABOVE_BAUD:
            return _FIXED_T35
        return 3.5 * self.char_time

    def wire_time(self, n_bytes: int) -> float:
        return n_bytes * self.char_time

    def transaction_time(self, request_bytes: int, reply_bytes: int, turnaround: float) -> float:
        """Theoretical time of one request/reply, including both t3.5 gaps.

        (request + reply) x bits per character / baud + 2 x t3.5 + the
        slave's turnaround (its processing time after it has seen t3.5 of
        silence). With no reply (a broadcast) pass reply_bytes=0.
        """
        return self.wire_time(request_bytes + reply_bytes) + 2 * self.t35 + turnaround
