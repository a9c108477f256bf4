"""Model of the reference lock board's firmware.

The contract is protocol/reference_board.py; this is one implementation of
it, kept as literal as possible:

- FC04 reads the identity block (0x0000..0x0007) or the status block
  (0x0010..), any part of one block; anything else is exception 02.
- FC03 reads the holding registers 0x0000..0x0004 (write-only ones read 0)
  and 0x0100+ch-1 (milliseconds of pulse left); FC06 / FC16 write them.
  A bad value is exception 03 and changes nothing; an FC16 is checked
  whole before any register is written.
- Function codes other than 03, 04, 06, 16 are exception 01.
- Broadcast writes (unit 0) are executed and never answered; a broadcast
  read is ignored. A new unit address is used from the next frame on: the
  reply to the write still comes from the old one.

Inputs. Each channel has three raw inputs: the door switch (1 = closed),
the item sensor (1 = present) and the lock feedback (1 = bolt released).
`polarity` inverts them before they reach the status bits. The board
samples its inputs at every `tick` and every request; between samples it
catches every transition through the compartment's edge counters, so that
each edge moves the change counter and any door transition sets the
latch. A channel with nothing wired reads 0 on every input.

Lock fault = the feedback disagrees with the output: the coil is on and the
bolt did not release (remembered until a later pulse releases it, because a
failed pulse is the news), or the coil is off and the bolt reads released.

Volatile state (counter, latches, pulses, reset flag) starts afresh at
`power_up`; pulse_default_ms, polarity and the unit address are kept, as
firmware keeps settings in EEPROM.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from protocol.modbus import (
    BROADCAST,
    DecodedRequest,
    ExceptionCode,
    ExceptionReply,
    Ignored,
    ReadHoldingRegisters,
    ReadInputRegisters,
    Refused,
    RegistersReply,
    Reply,
    Request,
    WriteEcho,
    WriteMultipleRegisters,
    WriteSingleRegister,
    decode_request,
    encode_refusal,
    encode_reply,
)
from protocol.reference_board import (
    COMMAND_ALL_OUTPUTS_OFF,
    HR_ACK,
    HR_COMMAND,
    HR_POLARITY,
    HR_PULSE_DEFAULT_MS,
    HR_UNIT_ADDRESS,
    HR_UNLOCK_BASE,
    IDENTITY_COUNT,
    IR_MAGIC,
    IR_STATUS,
    MAP_VERSION,
    PULSE_DEFAULT_MS,
    PULSE_MAX_MS,
    PULSE_MIN_MS,
    BoardStatus,
    Capabilities,
    ChannelStatus,
    Identity,
    Polarity,
    StatusFlags,
    encode_identity,
    encode_status,
    status_register_count,
)

from ..physics import Compartment

FIRMWARE = (1, 0)
MODEL = 0x5301  # "S" 1: the simulator
_HOLDING_COUNT = HR_UNIT_ADDRESS + 1
_ALL_POLARITY = 0x0007  # the three Polarity bits
_CAPABILITIES = Capabilities.DOOR_SWITCH | Capabilities.ITEM_SENSOR | Capabilities.LOCK_FEEDBACK


@dataclass(slots=True)
class _Channel:
    compartment: Compartment | None
    pulse_deadline: float | None = None  # the output is on until then
    latch: bool = False
    failed_pulse: bool = False
    door_edges_seen: int = 0
    item_edges_seen: int = 0
    # The compartment's version at the last sample (0 with nothing wired), -1
    # to force the next one: a sample with the same inputs changes nothing.
    version_seen: int = -1
    # the status bits as last sampled
    door_closed: bool = False
    item_present: bool = False
    lock_fault: bool = False


class ReferenceBoard:
    family = "reference"

    def __init__(
        self,
        unit: int,
        wiring: Sequence[Compartment | None],
        *,
        serial: int | None = None,
        now: float = 0.0,
    ) -> None:
        if not 1 <= unit <= 247:
            raise ValueError(f"unit {unit} is outside 1..247")
        if not 1 <= len(wiring) <= 48:
            raise ValueError(f"a reference board has 1..48 channels, not {len(wiring)}")
        self._unit = unit
        self._pending_unit: int | None = None
        self.channels = len(wiring)
        self.serial = 0x5100_0000 + unit if serial is None else serial
        self.pulse_default_ms = PULSE_DEFAULT_MS
        self.polarity = Polarity(0)
        self.flags = StatusFlags.RESET
        self.change_counter = 0
        self._ch = [_Channel(c) for c in wiring]
        self.power_up(now)

    @property
    def unit(self) -> int:
        return self._unit

    # -- power and time ---------------------------------------------------

    def power_up(self, now: float) -> None:
        self.flags = StatusFlags.RESET
        self.change_counter = 0
        for ch in self._ch:
            ch.pulse_deadline = None
            ch.failed_pulse = False
            if ch.compartment is not None:
                ch.compartment.drive(False, now)
                ch.door_edges_seen = ch.compartment.door_edges
                ch.item_edges_seen = ch.compartment.item_edges
            ch.door_closed, ch.item_present, ch.lock_fault = self._reported(ch)
            ch.latch = not ch.door_closed
            ch.version_seen = -1

    def next_deadline(self) -> float | None:
        deadlines = [c.pulse_deadline for c in self._ch if c.pulse_deadline is not None]
        return min(deadlines, default=None)

    def tick(self, now: float) -> None:
        self._sample()
        for ch in self._ch:
            if ch.pulse_deadline is not None and ch.pulse_deadline <= now:
                self._output(ch, None, ch.pulse_deadline)  # samples that channel again

    # -- the bus ------------------------------------------------------------

    def on_request(self, frame: bytes, now: float) -> bytes | None:
        self.tick(now)
        if frame and frame[0] != self._unit and frame[0] != BROADCAST:
            return None  # another board's frame, valid or not: nothing to decode
        decoded = decode_request(frame)
        match decoded:
            case Ignored():
                return None
            case Refused():
                return encode_refusal(decoded) if decoded.unit == self._unit else None
            case DecodedRequest(unit=unit, request=request) if unit == BROADCAST:
                if isinstance(request, WriteSingleRegister | WriteMultipleRegisters):
                    self._execute(request, now)
                    self._after_write()
                return None
            case DecodedRequest(unit=unit, request=request) if unit == self._unit:
                reply = encode_reply(unit, self._execute(request, now))
                self._after_write()
                return reply
        return None

    def _after_write(self) -> None:
        self._sample()
        if self._pending_unit is not None:
            self._unit, self._pending_unit = self._pending_unit, None

    def _execute(self, request: Request, now: float) -> Reply | ExceptionReply:
        match request:
            case ReadInputRegisters(address=address, count=count):
                block = self._input_block(address)
                return self._read(request, block, address, count)
            case ReadHoldingRegisters(address=address, count=count):
                return self._read(request, self._holding_block(address, now), address, count)
            case WriteSingleRegister(address=address, value=value):
                refusal = self._check_write(address, value)
                if refusal is not None:
                    return ExceptionReply(request.function, refusal)
                self._write(address, value, now)
                return WriteEcho(request.function, address, value)
            case WriteMultipleRegisters(address=address, values=values):
                pairs = [(address + i, v) for i, v in enumerate(values)]
                refusals = [r for a, v in pairs if (r := self._check_write(a, v)) is not None]
                if refusals:
                    return ExceptionReply(request.function, min(refusals))
                for a, v in pairs:
                    self._write(a, v, now)
                return WriteEcho(request.function, address, len(values))
        return ExceptionReply(request.function, ExceptionCode.ILLEGAL_FUNCTION)

    # -- register spaces ----------------------------------------------------------

    def _read(
        self,
        request: ReadInputRegisters | ReadHoldingRegisters,
        block: tuple[int, tuple[int, ...]] | None,
        address: int,
        count: int,
    ) -> RegistersReply | ExceptionReply:
        if block is None:
            return ExceptionReply(request.function, ExceptionCode.ILLEGAL_DATA_ADDRESS)
        base, words = block
        if address + count > base + len(words):
            return ExceptionReply(request.function, ExceptionCode.ILLEGAL_DATA_ADDRESS)
        return RegistersReply(request.function, words[address - base : address - base + count])

    def _input_block(self, address: int) -> tuple[int, tuple[int, ...]] | None:
        if IR_MAGIC <= address < IR_MAGIC + IDENTITY_COUNT:
            return IR_MAGIC, encode_identity(self.identity())
        if IR_STATUS <= address < IR_STATUS + status_register_count(self.channels):
            return IR_STATUS, encode_status(self.status())
        return None

    def _holding_block(self, address: int, now: float) -> tuple[int, tuple[int, ...]] | None:
        if address < _HOLDING_COUNT:
            # ack and command are write-only and read 0
            return 0, (self.pulse_default_ms, int(self.polarity), 0, 0, self._unit)
        if HR_UNLOCK_BASE <= address < HR_UNLOCK_BASE + self.channels:
            return HR_UNLOCK_BASE, tuple(self._ms_left(ch, now) for ch in self._ch)
        return None

    def _check_write(self, address: int, value: int) -> ExceptionCode | None:
        ok: bool
        if address == HR_PULSE_DEFAULT_MS:
            ok = PULSE_MIN_MS <= value <= PULSE_MAX_MS
        elif address == HR_POLARITY:
            ok = value & ~_ALL_POLARITY == 0
        elif address == HR_ACK:
            ok = True
        elif address == HR_COMMAND:
            ok = value == COMMAND_ALL_OUTPUTS_OFF
        elif address == HR_UNIT_ADDRESS:
            ok = 1 <= value <= 247
        elif HR_UNLOCK_BASE <= address < HR_UNLOCK_BASE + self.channels:
            ok = value == 0 or PULSE_MIN_MS <= value <= PULSE_MAX_MS
        else:
            return ExceptionCode.ILLEGAL_DATA_ADDRESS
        return None if ok else ExceptionCode.ILLEGAL_DATA_VALUE

    def _write(self, address: int, value: int, now: float) -> None:
        if address == HR_PULSE_DEFAULT_MS:
            self.pulse_default_ms = value
        elif address == HR_POLARITY:
            self._set_polarity(Polarity(value))
        elif address == HR_ACK:
            self._ack(value)
        elif address == HR_COMMAND:
            for ch in self._ch:
                self._output(ch, None, now)
        elif address == HR_UNIT_ADDRESS:
            self._pending_unit = value
        else:
            ms = value or self.pulse_default_ms
            # writing again restarts the pulse: a repeated unlock is harmless
            self._output(self._ch[address - HR_UNLOCK_BASE], now + ms / 1000, now)

    # -- behaviour ------------------------------------------------------------------

    def _output(self, ch: _Channel, deadline: float | None, now: float) -> None:
        ch.pulse_deadline = deadline
        if ch.compartment is not None:
            ch.compartment.drive(deadline is not None, now)
        self._sample_channel(ch)

    def _ack(self, value: int) -> None:
        if value != self.change_counter:
            return  # something changed since the host's read: keep the latches
        self.flags &= ~StatusFlags.RESET
        for ch in self._ch:
            # a door still open is open at a moment after the ack
            ch.latch = not ch.door_closed

    def _set_polarity(self, polarity: Polarity) -> None:
        self._sample()
        self.polarity = polarity
        for ch in self._ch:
            door_closed, item_present, lock_fault = self._reported(ch)
            changed = (
                (door_closed != ch.door_closed)
                + (item_present != ch.item_present)
                + (lock_fault != ch.lock_fault)
            )
            self._bump(changed)
            ch.door_closed, ch.item_present, ch.lock_fault = door_closed, item_present, lock_fault
            ch.latch = ch.latch or not door_closed
            ch.version_seen = -1  # the next sample reads the inputs through the new polarity

    def _sample(self) -> None:
        # Every frame on the bus samples every board: only the channels whose
        # compartment moved since their last sample are read again (the
        # others' sample would find the same levels and no edge). Outputs and
        # polarity change through _output / _set_polarity, which sample or
        # force the next sample themselves.
        for ch in self._ch:
            comp = ch.compartment
            if ch.version_seen != (0 if comp is None else comp.version):
                self._sample_channel(ch)

    def _sample_channel(self, ch: _Channel) -> None:
        door_edges = item_edges = 0
        comp = ch.compartment
        if comp is not None:
            door_edges = comp.door_edges - ch.door_edges_seen
            item_edges = comp.item_edges - ch.item_edges_seen
            ch.door_edges_seen, ch.item_edges_seen = comp.door_edges, comp.item_edges
        if ch.pulse_deadline is not None:
            ch.failed_pulse = not self._feedback_released(ch)
        door_closed, item_present, lock_fault = self._reported(ch)
        # Count edges, not differences: open-and-close between two samples is
        # two edges and must move the counter (and set the latch) all the same.
        self._bump(door_edges + item_edges + (lock_fault != ch.lock_fault))
        if door_edges or not door_closed:
            ch.latch = True
        ch.door_closed, ch.item_present, ch.lock_fault = door_closed, item_present, lock_fault
        ch.version_seen = 0 if comp is None else comp.version

    def _feedback_released(self, ch: _Channel) -> bool:
        raw = ch.compartment is not None and ch.compartment.lock_released_signal
        return raw != bool(self.polarity & Polarity.LOCK_FEEDBACK_INVERTED)

    def _reported(self, ch: _Channel) -> tuple[bool, bool, bool]:
        comp = ch.compartment
        door_raw = comp is not None and comp.door_closed_signal
        item_raw = comp is not None and comp.item_signal
        on = ch.pulse_deadline is not None
        released = self._feedback_released(ch)
        return (
            door_raw != bool(self.polarity & Polarity.DOOR_INVERTED),
            item_raw != bool(self.polarity & Polarity.ITEM_INVERTED),
            ch.failed_pulse if on else (ch.failed_pulse or released),
        )

    def _bump(self, edges: int) -> None:
        self.change_counter = (self.change_counter + edges) & 0xFFFF

    def _ms_left(self, ch: _Channel, now: float) -> int:
        if ch.pulse_deadline is None:
            return 0
        # round to the microsecond first: 5.2 - 5.05 is 0.15000000000000036
        ms = math.ceil(round((ch.pulse_deadline - now) * 1000, 3))
        return max(0, min(0xFFFF, ms))

    # -- what a status page shows -------------------------------------------------------

    def identity(self) -> Identity:
        return Identity(
            map_version=MAP_VERSION,
            channels=self.channels,
            firmware=FIRMWARE,
            model=MODEL,
            serial=self.serial,
            capabilities=_CAPABILITIES,
        )

    def status(self) -> BoardStatus:
        flags = self.flags
        if any(ch.pulse_deadline is not None for ch in self._ch):
            flags |= StatusFlags.PULSE_ACTIVE
        return BoardStatus(
            flags=flags,
            change_counter=self.change_counter,
            channels=tuple(
                ChannelStatus(ch.door_closed, ch.item_present, ch.lock_fault, ch.latch)
                for ch in self._ch
            ),
        )

    def snapshot(self) -> dict[str, object]:
        status = self.status()
        return {
            "family": self.family,
            "unit": self._unit,
            "channels": self.channels,
            "flags": int(status.flags),
            "change_counter": status.change_counter,
            "polarity": int(self.polarity),
            "pulse_default_ms": self.pulse_default_ms,
            "outputs_on": [i + 1 for i, ch in enumerate(self._ch) if ch.pulse_deadline is not None],
        }
