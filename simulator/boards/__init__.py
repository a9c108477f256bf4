"""Board firmware models. Each is pure: frames and `now` in, reply frames out.

    reference   our lock board (protocol/reference_board.py is its contract)
    relay       a Waveshare-style relay + digital-input module
    kerong      Kerong CU16 and CU48 lock boards (protocol/kerong)

A board holds references to the physical `Compartment`s wired to it and
drives their locks; it never reads a clock. The line hands it every frame
that crosses the bus, as a real board's UART would, and the board decides
whether the frame is for it.
"""

from __future__ import annotations

from typing import Protocol

from .kerong import KerongCu16, KerongCu48
from .reference import ReferenceBoard
from .relay import RelayModule


class Board(Protocol):
    family: str
    channels: int

    @property
    def unit(self) -> int: ...

    def on_request(self, frame: bytes, now: float) -> bytes | None:
        """The reply to one silence-delimited frame, or None for no reply."""
        ...

    def tick(self, now: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def power_up(self, now: float) -> None:
        """Power returns: every output off, volatile state lost."""
        ...

    def snapshot(self) -> dict[str, object]: ...


__all__ = ["Board", "KerongCu16", "KerongCu48", "ReferenceBoard", "RelayModule"]
