"""Where the reference boards' firmware runs: in this process, or in MicroPython.

    cpython       firmware.hal.sim.SimBoard in the simulator's own interpreter
                  (the default: fastest, and what the unit tests use)
    micropython   firmware.hal.sim_wire inside the official MicroPython
                  WebAssembly build under node, one process for all boards
                  (simulator/micropython): the HIL twin, the firmware's files
                  loaded unchanged

Both run the same firmware core with the same sim HAL; the reference
board adapter (boards/reference.py) cannot tell them apart.
"""

from __future__ import annotations

import platform
from typing import Literal, Protocol

from firmware.hal.sim import SimBoard

from .micropython import MicroPythonHost, RemoteBoard

EngineName = Literal["cpython", "micropython"]
ENGINES: tuple[EngineName, ...] = ("cpython", "micropython")


class FirmwareBoard(Protocol):
    """The calls of firmware.hal.sim.SimBoard that the adapter makes."""

    @property
    def unit(self) -> int: ...

    @property
    def coils(self) -> list[int]: ...

    @property
    def uart_format(self) -> int: ...

    def deliver(self, frame: bytes, now: int) -> bytes | None: ...

    def set_inputs(
        self, door: list[int], item: list[int], feedback: list[int], now: int
    ) -> None: ...

    def advance(self, now: int) -> None: ...

    def power_up(self, now: int) -> None: ...

    def stall(self, now: int) -> None: ...

    def wait_us(self) -> int: ...

    def info(self) -> dict[str, int]: ...


class Engine(Protocol):
    name: EngineName
    version: str

    def board(
        self, channels: int, serial: int, *, unit: int, serial_format: int, now: int
    ) -> FirmwareBoard: ...

    def close(self) -> None: ...


class CPythonEngine:
    name: EngineName = "cpython"

    def __init__(self) -> None:
        self.version = platform.python_version()

    def board(
        self, channels: int, serial: int, *, unit: int, serial_format: int, now: int
    ) -> FirmwareBoard:
        return SimBoard(channels, serial, unit, serial_format, now)

    def close(self) -> None:
        pass


class MicroPythonEngine:
    name: EngineName = "micropython"

    def __init__(self) -> None:
        self._host = MicroPythonHost()
        self.version = self._host.version

    def board(
        self, channels: int, serial: int, *, unit: int, serial_format: int, now: int
    ) -> FirmwareBoard:
        return RemoteBoard(
            self._host, channels, serial, unit=unit, serial_format=serial_format, now=now
        )

    def close(self) -> None:
        self._host.close()


def start_engine(name: EngineName) -> Engine:
    if name == "micropython":
        return MicroPythonEngine()
    return CPythonEngine()
