"""The driver port: what a board family sends and how its replies read.

A driver is sans-I/O (h11's shape): it hands the bus owner exchanges and
turns the replies into the adapter's values. It never touches the port, the
clock or the queue, so one owner runs every family the same way: start-up
steps in order, stopping at the first failure; a poll (one or more reads,
stopping at the first fault); the acknowledgement a reading asks for,
written only after the reading has been handed to the consumer; an unlock,
written once and never retried.

What a family must provide:

    startup()        probe / identify, all outputs off, configure
    check_startup()  whether one start-up step's reply is what the board must say
    poll()           the reads of one poll, in order
    decode()         those reads' replies -> `Reading` (channel states, restart
                     flag, the acknowledgement to write afterwards, if any)
    unlock()         the request that pulses one channel's lock

The wire seam. An exchange is a `WireExchange`: the bytes to send, a fresh
reader for the reply (`WireReader`: feed bytes, get an outcome or a fault)
and the sizes the response timeout is computed from. A family brings its
own framing through its reader: Modbus RTU recognises a reply by content
(`Exchange`, below); a family whose replies cannot be framed by content
sets `silence_framed`, and the transaction then ends the reply where the
line falls silent and asks the reader for the outcome. An exchange that
`expects_reply` False is only written (the Kerong CU48 never answers an
unlock): the owner confirms it with the family's poll instead. One whose
`reply_optional` is True may be answered or not (a Kerong CU16 unlock,
depending on the firmware): a reply is read if it comes within the time a
prompt board would take, its absence is no fault, and the owner confirms
the write with the family's poll either way.

Several PROBE steps in a row are alternatives (a family with firmware
variants): the first that succeeds identifies the board and the other
probes are skipped; the start-up fails only if every one fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from protocol import BusFault
from protocol.modbus import (
    ReplyReader,
    Request,
    WriteMultipleRegisters,
    WriteSingleCoil,
    WriteSingleRegister,
    encode_request,
    reply_length,
)

from ..model import BoardId, ChannelState

R_co = TypeVar("R_co", covariant=True)
R_contra = TypeVar("R_contra", contravariant=True)
# A bus sends the same few requests all day (one status read per board, a
# few writes): their frames, CRC included, are encoded once.
_encode = lru_cache(maxsize=1024)(encode_request)


class WireReader(Protocol[R_co]):
    """Collects one reply (protocol.modbus.ReplyReader, protocol.kerong.KerongReader)."""

    @property
    def received(self) -> bytes: ...

    def feed(self, data: bytes) -> R_co | BusFault | None: ...

    def give_up(self) -> R_co | BusFault:
        """The wait is over: the outcome from what was received."""
        ...


class WireExchange(Protocol[R_co]):
    @property
    def unit(self) -> int: ...

    @property
    def is_write(self) -> bool: ...

    @property
    def expects_reply(self) -> bool: ...

    @property
    def reply_optional(self) -> bool:
        """A reply may come or not; nothing depends on it."""
        ...

    @property
    def silence_framed(self) -> bool: ...

    @property
    def request_bytes(self) -> int: ...

    @property
    def reply_bytes(self) -> int:
        """The longest reply expected (0 without one)."""
        ...

    def encode(self) -> bytes: ...

    def reader(self) -> WireReader[R_co]: ...


@dataclass(frozen=True, slots=True)
class Exchange:
    """A Modbus RTU request to one unit (framed by content: protocol/modbus/rtu.py)."""

    unit: int
    request: Request

    @property
    def is_write(self) -> bool:
        # Writes are never retried: a write whose reply was lost may well have
        # been executed (gateway notes 0.4).
        return isinstance(
            self.request, WriteSingleCoil | WriteSingleRegister | WriteMultipleRegisters
        )

    @property
    def expects_reply(self) -> bool:
        return True  # the owner never broadcasts

    @property
    def reply_optional(self) -> bool:
        return False

    @property
    def silence_framed(self) -> bool:
        return False

    @property
    def request_bytes(self) -> int:
        return len(self.encode())

    @property
    def reply_bytes(self) -> int:
        return reply_length(self.request)

    def encode(self) -> bytes:
        return _encode(self.unit, self.request)

    def reader(self) -> ReplyReader:
        return ReplyReader(self.unit, self.request)


class StartupKind(StrEnum):
    PROBE = "probe"  # a read that proves the board is there and is what we think
    OUTPUTS_OFF = "outputs_off"  # only at the owner's first start (field lessons 2)
    CONFIGURE = "configure"  # pulse length, polarity: every time the board comes back


@dataclass(frozen=True, slots=True)
class StartupStep:
    kind: StartupKind
    exchange: WireExchange[Any]


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
    acknowledge: WireExchange[Any] | None = None


class BoardDriver(Protocol[R_contra]):
    """`R_contra`: the replies the family's exchanges produce (Modbus `Reply`, ...)."""

    @property
    def board(self) -> BoardId: ...

    @property
    def channels(self) -> int: ...

    @property
    def identity(self) -> str:
        """What the last successful probe learnt, for people ("" before)."""
        ...

    def startup(self) -> tuple[StartupStep, ...]: ...

    def check_startup(self, step: StartupStep, reply: R_contra) -> BusFault | None:
        """None when the reply is right; a fault (usually MISMATCH) otherwise."""
        ...

    def poll(self) -> tuple[WireExchange[Any], ...]: ...

    def decode(self, replies: tuple[R_contra, ...]) -> Reading | BusFault: ...

    def unlock(self, channel: int, pulse_ms: int | None) -> WireExchange[Any]:
        """`pulse_ms` None: the board's configured pulse."""
        ...
