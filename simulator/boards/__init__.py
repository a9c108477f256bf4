"""Board firmware models. Each is pure: frames and `now` in, reply frames out.

    reference   our lock board (protocol/reference_board.py is its contract)
    relay       a Waveshare-style relay + digital-input module
    kerong      Kerong CU16 and CU48 lock boards (protocol/kerong)

A board holds references to the physical `Compartment`s wired to it and
drives their locks; it never reads a clock. The line hands it every frame
that crosses the bus, as a real board's UART would, and the board decides
whether the frame is for it.

`MODELS` builds a family's model from its layout entry, keyed by the
family's name in `protocol.families`: a new family adds its model here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from protocol.families import KERONG_CU16, KERONG_CU48, REFERENCE, RELAY
from protocol.kerong import cu16, cu48
from protocol.timing import SerialFormat

from ..engines import Engine
from ..layout import BoardSpec
from ..physics import Compartment
from .kerong import KerongCu16, KerongCu48
from .reference import ReferenceBoard
from .relay import InputWire, RelayModule


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


@dataclass(frozen=True, slots=True)
class Wired:
    """The compartments on a board's channels (index n - 1: channel n; None: nothing):
    whose lock each output drives, and (relay modules) whose door switch and
    item sensor each input reads."""

    lock: list[Compartment | None]
    door: list[Compartment | None]
    item: list[Compartment | None]


@dataclass(frozen=True, slots=True)
class Site:
    """Where a board is built: the time, its line's format and the engine
    that runs firmware (the reference board's; the other models ignore it)."""

    now: float
    line: SerialFormat
    engine: Engine


def _reference_board(spec: BoardSpec, wired: Wired, site: Site) -> Board:
    return ReferenceBoard(spec.unit, wired.lock, now=site.now, fmt=site.line, engine=site.engine)


def _relay_module(spec: BoardSpec, wired: Wired, site: Site) -> Board:
    inputs: list[InputWire | None] = [None] * spec.channels
    for channel, comp in enumerate(wired.door):
        if comp is not None:
            inputs[channel] = InputWire(comp, "door")
    for channel, comp in enumerate(wired.item):
        if comp is not None:
            inputs[channel] = InputWire(comp, "item")
    return RelayModule(spec.unit, wired.lock, inputs, now=site.now)


BoardModel = Callable[[BoardSpec, Wired, Site], Board]

MODELS: dict[str, BoardModel] = {
    REFERENCE.name: _reference_board,
    RELAY.name: _relay_module,
    KERONG_CU16.name: lambda spec, wired, site: KerongCu16(
        spec.unit,
        wired.lock,
        unlock_ms=spec.unlock_ms,
        variant=cu16.Variant(spec.firmware or KERONG_CU16.firmware[0]),
        now=site.now,
    ),
    KERONG_CU48.name: lambda spec, wired, site: KerongCu48(
        spec.unit,
        wired.lock,
        unlock_ms=spec.unlock_ms,
        variant=cu48.Variant(spec.firmware or KERONG_CU48.firmware[0]),
        now=site.now,
    ),
}


__all__ = [
    "MODELS",
    "Board",
    "BoardModel",
    "KerongCu16",
    "KerongCu48",
    "ReferenceBoard",
    "RelayModule",
    "Site",
    "Wired",
]
