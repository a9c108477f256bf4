"""The driver port: what a board family sends and how its replies read.

A driver is sans-I/O (h11's shape): it hands the bus owner `Exchange`s
(unit + Modbus request) and turns the replies into the adapter's values. It
never touches the port, the clock or the queue, so one owner runs every
family the same way: start-up steps in order, stopping at the first
failure; a poll (one or more reads, stopping at the first fault); the
acknowledgement a reading asks for, written only after the reading has been
handed to the consumer; an unlock, written once and never retried.

What a family must provide:

    startup()        probe / identify, all outputs off, configure
    check_startup()  whether one start-up step's reply is what the board must say
    poll()           the reads of one poll, in order
    decode()         those reads' replies -> `Reading` (channel states, restart
                     flag, the acknowledgement to write afterwards, if any)
    unlock()         the request that pulses one channel's lock
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from protocol import BusFault
from protocol.modbus import (
    Reply,
    Request,
    WriteMultipleRegisters,
    WriteSingleCoil,
    WriteSingleRegister,
)

from ..model import BoardId, ChannelState


@dataclass(frozen=True, slots=True)
class Exchange:
    unit: int
    request: Request

    @property
    def is_write(self) -> bool:
        # Writes are never retried: a write whose reply was lost may well have
        # been executed (gateway notes 0.4).
        return isinstance(
            self.request, WriteSingleCoil | WriteSingleRegister | WriteMultipleRegisters
        )


class StartupKind(StrEnum):
    PROBE = "probe"  # a read that proves the board is there and is what we think
    OUTPUTS_OFF = "outputs_off"  # only at the owner's first start (field lessons 2)
    CONFIGURE = "configure"  # pulse length, polarity: every time the board comes back


@dataclass(frozen=True, slots=True)
class StartupStep:
    kind: StartupKind
    exchange: Exchange


@dataclass(frozen=True, slots=True)
class Reading:
    channels: tuple[ChannelState, ...]
    restarted: bool = False
    # The board's change counter (reference board), None for boards without one.
    # Two readings with the same latch bits but different counters are two
    # different open-and-close cycles.
    change_counter: int | None = None
    # Written after the reading reached the consumer, so that a crash in
    # between loses no latched change (the board keeps the latch).
    acknowledge: Exchange | None = None


class BoardDriver(Protocol):
    @property
    def board(self) -> BoardId: ...

    @property
    def channels(self) -> int: ...

    @property
    def identity(self) -> str:
        """What the last successful probe learnt, for people ("" before)."""
        ...

    def startup(self) -> tuple[StartupStep, ...]: ...

    def check_startup(self, step: StartupStep, reply: Reply) -> BusFault | None:
        """None when the reply is right; a fault (usually MISMATCH) otherwise."""
        ...

    def poll(self) -> tuple[Exchange, ...]: ...

    def decode(self, replies: tuple[Reply, ...]) -> Reading | BusFault: ...

    def unlock(self, channel: int, pulse_ms: int | None) -> Exchange:
        """`pulse_ms` None: the board's configured pulse."""
        ...
