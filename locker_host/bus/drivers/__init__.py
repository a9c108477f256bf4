"""Board families behind one driver port.

    port        BoardDriver (typing.Protocol), WireExchange, WireReader, the Modbus
                Exchange, Reading, StartupStep
    reference   our reference lock board
    relay       Waveshare-style relay + digital-input modules
    kerong      Kerong CU16 / CU48 lock boards (own frames: KerongExchange)

A new family adds a module here and its entry in `DRIVERS`, keyed by its
name in `protocol.families`; see docs/boards.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocol.families import KERONG_CU16, KERONG_CU48, REFERENCE, RELAY

from ..config import BoardConfig
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

# Each driver takes its family's configuration class (config.py).
DRIVERS: dict[str, Callable[[str, Any], BoardDriver[Any]]] = {
    REFERENCE.name: ReferenceDriver,
    RELAY.name: RelayDriver,
    KERONG_CU16.name: Cu16Driver,
    KERONG_CU48.name: Cu48Driver,
}


def driver_for(bus: str, config: BoardConfig) -> BoardDriver[Any]:
    return DRIVERS[config.family](bus, config)


__all__ = [
    "DRIVERS",
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
