"""Board families behind one driver port.

    port        BoardDriver (typing.Protocol), Exchange, Reading, StartupStep
    reference   our reference lock board
    relay       Waveshare-style relay + digital-input modules

The Kerong CU16 / CU48 adapter is its own issue; it adds a module here and
a case to `driver_for`.
"""

from __future__ import annotations

from typing import assert_never

from ..config import BoardConfig, ReferenceBoardConfig, RelayBoardConfig
from .port import BoardDriver, Exchange, Reading, StartupKind, StartupStep
from .reference import ReferenceDriver
from .relay import RelayDriver


def driver_for(bus: str, config: BoardConfig) -> BoardDriver:
    match config:
        case ReferenceBoardConfig():
            return ReferenceDriver(bus, config)
        case RelayBoardConfig():
            return RelayDriver(bus, config)
        case _:
            assert_never(config)


__all__ = [
    "BoardDriver",
    "Exchange",
    "Reading",
    "ReferenceDriver",
    "RelayDriver",
    "StartupKind",
    "StartupStep",
    "driver_for",
]
