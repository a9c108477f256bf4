"""Drivers for Kerong CU16 and CU48 lock boards (protocol/kerong is the wire).

Kerong frames are not Modbus: `KerongExchange` carries the frame and the
reader the family needs (content framing for the status replies, framing by
silence for the unlock acknowledgement one driver expects from the CU48's
0x60 firmware variant), and the one bus owner runs them like any other
exchange (drivers/port.py).

What the family has, and what follows:
- The hook switch of each lock is the door sensor: it reads "locked" only
  while the door is shut on its latch. Its polarity flips with NO/NC hook
  switches (`polarity.door_inverted`). A CU16 also reads one infrared item
  sensor per lock (`polarity.item_inverted`); a CU48 has none, so its
  compartments run the degraded flows without an item sensor.
- No latches, no change counter: a door opened and closed between two polls
  is missed (`opened_since_last_poll` None), as with relay modules; poll
  these boards often.
- No lock feedback apart from the hook: `lock_fault` is None.
- The board times its pulse itself (`unlock_ms`, a board setting): a host
  crash mid-pulse cannot leave a lock energised, and an unlock cannot ask
  for another length, so `pulse_ms` is not sent.
- An unlock is never depended on to be answered: a CU16 may answer it with
  its status or not at all (kerong-lib: no reply), a CU48 V2.1 never does,
  the 0x60 variant's answer is unverified. A reply that comes is read
  (`reply_optional`); either way the unlock is confirmed by a status read
  (board_work.py), so missing unlock replies never take a board offline.
- Nothing to switch off or configure at start-up: the probe is a status
  read. A CU16 is probed with 0x30 first, then 0x32 (the two status
  commands drivers use); a CU48 with the vendor document's status command
  first, then the 0x60 variant's. What answers is kept for good.
- The unlock-time frame one driver sends to a CU16 (0x37) is unverified and
  never sent: `unlock_ms` only tells the host how long a release lasts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from protocol import BusFault, FaultKind, UsageError
from protocol.kerong import KerongReader, cu16, cu48

from ..config import KerongBoardConfig, SensorPolarity
from ..model import BoardId, ChannelState, DoorState, ItemState
from .port import Reading, StartupKind, StartupStep

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class KerongExchange(Generic[R]):
    """One Kerong frame and how its reply reads (None: the board never answers)."""

    unit: int
    frame: bytes
    reply: Callable[[], KerongReader[R]] | None
    reply_bytes: int
    is_write: bool
    reply_optional: bool = False

    @property
    def expects_reply(self) -> bool:
        return self.reply is not None

    @property
    def silence_framed(self) -> bool:
        return self.reply is not None and self.reply().silence_framed

    @property
    def request_bytes(self) -> int:
        return len(self.frame)

    def encode(self) -> bytes:
        return self.frame

    def reader(self) -> KerongReader[R]:
        if self.reply is None:
            raise UsageError("this exchange expects no reply")
        return self.reply()


def channel_state(
    number: int, hook_locked: bool, item: bool | None, polarity: SensorPolarity
) -> ChannelState:
    closed = hook_locked != polarity.door_inverted
    item_state = ItemState.NO_SENSOR
    if item is not None:
        present = item != polarity.item_inverted
        item_state = ItemState.PRESENT if present else ItemState.ABSENT
    door = DoorState.CLOSED if closed else DoorState.OPEN
    return ChannelState(number, door, item_state, None, None)


def _check_channel(channel: int, locks: int) -> None:
    if not 1 <= channel <= locks:
        raise UsageError(f"channel {channel} is outside 1..{locks}")


def _wrong_board(expected: int, got: int) -> BusFault:
    return BusFault(FaultKind.MISMATCH, f"status of board {got}, expected board {expected}")


class _KerongBoard:
    """What both Kerong drivers share: the board, its locks, its identity once probed."""

    def __init__(self, bus: str, config: KerongBoardConfig) -> None:
        self._board = BoardId(bus, config.unit)
        self._config = config
        self._identity = ""

    @property
    def board(self) -> BoardId:
        return self._board

    @property
    def channels(self) -> int:
        return self._config.locks

    @property
    def identity(self) -> str:
        return self._identity


class Cu16Driver(_KerongBoard):
    def __init__(self, bus: str, config: KerongBoardConfig) -> None:
        super().__init__(bus, config)
        self.status_command: cu16.Command | None = None  # until a probe answers
        self._reads = {command: self._status(command) for command in cu16.STATUS_COMMANDS}
        self._probes = {c: StartupStep(StartupKind.PROBE, x) for c, x in self._reads.items()}

    def _status(self, command: cu16.Command) -> KerongExchange[cu16.Status]:
        unit = self._config.unit
        frame = cu16.status_request(unit, command)
        reader = lambda: cu16.status_reader(unit)  # noqa: E731
        return KerongExchange(unit, frame, reader, cu16.REPLY_LENGTH, False)

    def startup(self) -> tuple[StartupStep, ...]:
        if self.status_command is not None:
            return (self._probes[self.status_command],)
        return tuple(self._probes.values())

    def check_startup(self, step: StartupStep, reply: cu16.Status) -> BusFault | None:
        if reply.board != self._config.unit:
            return _wrong_board(self._config.unit, reply.board)
        self.status_command = next(c for c, probe in self._probes.items() if probe == step)
        self._identity = (
            f"Kerong CU16 board {reply.board} (status 0x{self.status_command:02X}): "
            f"{self.channels} locks, hook and infrared, unlock {self._config.unlock_ms} ms"
        )
        return None

    def poll(self) -> tuple[KerongExchange[cu16.Status], ...]:
        return (self._reads[self.status_command or cu16.Command.STATUS],)

    def decode(self, replies: tuple[cu16.Status, ...]) -> Reading | BusFault:
        (status,) = replies
        polarity = self._config.polarity
        return Reading(
            tuple(
                channel_state(n, status.hooks[n - 1], status.items[n - 1], polarity)
                for n in range(1, self.channels + 1)
            )
        )

    def unlock(self, channel: int, pulse_ms: int | None) -> KerongExchange[cu16.Status]:
        _check_channel(channel, self.channels)
        unit = self._config.unit
        frame = cu16.unlock_request(unit, channel)
        reader = lambda: cu16.status_reader(unit)  # noqa: E731
        return KerongExchange(unit, frame, reader, cu16.REPLY_LENGTH, True, reply_optional=True)


class Cu48Driver(_KerongBoard):
    def __init__(self, bus: str, config: KerongBoardConfig) -> None:
        super().__init__(bus, config)
        self.variant: cu48.Variant | None = None  # until a probe answers
        self._probes = {v: StartupStep(StartupKind.PROBE, self._status(v)) for v in cu48.Variant}

    def _status(self, variant: cu48.Variant) -> KerongExchange[cu48.Status]:
        unit = self._config.unit
        frame = cu48.status_request(unit, variant)
        reader = lambda: cu48.status_reader(unit, variant)  # noqa: E731
        return KerongExchange(unit, frame, reader, variant.status_length, False)

    def startup(self) -> tuple[StartupStep, ...]:
        if self.variant is not None:
            return (self._probes[self.variant],)
        return tuple(self._probes.values())

    def check_startup(self, step: StartupStep, reply: cu48.Status) -> BusFault | None:
        if reply.board != self._config.unit:
            return _wrong_board(self._config.unit, reply.board)
        self.variant = next(v for v, probe in self._probes.items() if probe == step)
        self._identity = (
            f"Kerong CU48 board {reply.board} (firmware {self.variant.value}): "
            f"{self.channels} locks, hook only, unlock {self._config.unlock_ms} ms"
        )
        return None

    def poll(self) -> tuple[KerongExchange[cu48.Status], ...]:
        return (self._status(self.variant or cu48.Variant.V2_1),)

    def decode(self, replies: tuple[cu48.Status, ...]) -> Reading | BusFault:
        (status,) = replies
        polarity = self._config.polarity
        return Reading(
            tuple(
                channel_state(n, status.hooks[n - 1], None, polarity)
                for n in range(1, self.channels + 1)
            )
        )

    def unlock(self, channel: int, pulse_ms: int | None) -> KerongExchange[cu48.UnlockAccepted]:
        _check_channel(channel, self.channels)
        unit = self._config.unit
        variant = self.variant or cu48.Variant.V2_1
        frame = cu48.unlock_request(unit, channel, variant)
        if not variant.unlock_may_answer:
            return KerongExchange(unit, frame, None, 0, True)
        reader = lambda: cu48.unlock_reader(unit, channel)  # noqa: E731
        length = cu48.ALT_UNLOCK_LENGTH
        return KerongExchange(unit, frame, reader, length, True, reply_optional=True)
