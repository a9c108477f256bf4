"""Board families behind one driver port.

    port        BoardDriver (typing.Protocol), WireExchange, WireReader, the Modbus
                Exchange, Reading, StartupStep
    reference   our reference lock board
    relay       Waveshare-style relay + digital-input modules
    kerong      Kerong CU16 / CU48 lock boards (own frames: KerongExchange)

A new family adds a module here, a configuration class (config.py) and a
case to `driver_for`; see docs/boards.md.
"""

from __future__ import annotations

from typing import Any, assert_never

from ..config import BoardConfig, KerongBoardConfig, ReferenceBoardConfig, RelayBoardConfig
from .kerong import Cu16Driver, Cu48Driver, KerongExchange
from .port import (
    BoardDriver,
    Exchange,
    Reading,
    StartupKind,
    StartupStep,
    WireExchange,
    WireReader,
)
from .reference import ReferenceDriver
from .relay import RelayDriver


def driver_for(bus: str, config: BoardConfig) -> BoardDriver[Any]:
    match config:
        case ReferenceBoardConfig():
            return ReferenceDriver(bus, config)
        case RelayBoardConfig():
            return RelayDriver(bus, config)
        case KerongBoardConfig(family="kerong_cu16"):
            return Cu16Driver(bus, config)
        case KerongBoardConfig():
            return Cu48Driver(bus, config)
        case _:
            assert_never(config)


__all__ = [
    "BoardDriver",
    "Cu16Driver",
    "Cu48Driver",
    "Exchange",
    "KerongExchange",
    "Reading",
    "ReferenceDriver",
    "RelayDriver",
    "StartupKind",
    "StartupStep",
    "WireExchange",
    "WireReader",
    "driver_for",
]
