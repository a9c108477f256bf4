"""Model of a Waveshare-style Modbus RTU relay + digital-input module.

Wire facts are protocol/relay_module.py's (Waveshare "Modbus RTU Relay"
wiki, as used by Open-Locker):

- FC01 reads relays 0x0000..; FC02 reads inputs 0x0000..;
- FC05 0xFF00 / 0x0000 switches one relay, coil 0x00FF all of them;
- FC05 to 0x0200+ch turns the relay on for value x 100 ms ("flash on"),
  0x0400+ch off for that long ("flash off"); the module times it;
- FC03 0x4000 is the unit address, 0x8000 the firmware version; FC06 to
  0x4000 stores a new address, used from the next power-up (the wiki tells
  you to power-cycle the module after setting it).

Other function codes are exception 01, other addresses exception 02, other
FC05 values exception 03. Broadcast writes are executed, never answered.

A module has no latches and no change counter: an input is a raw level
(door input 1 = closed, item input 1 = present, before any sensor fault),
and a door opened and closed between two polls is missed. The host's
business, and the reason the reference board exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from protocol.families import RELAY
from protocol.modbus import (
    BROADCAST,
    COIL_OFF,
    COIL_ON,
    MAX_UNIT,
    BitsReply,
    DecodedRequest,
    ExceptionCode,
    ExceptionReply,
    Ignored,
    ReadCoils,
    ReadDiscreteInputs,
    ReadHoldingRegisters,
    Refused,
    RegistersReply,
    Reply,
    Request,
    WriteEcho,
    WriteSingleCoil,
    WriteSingleRegister,
    decode_request,
    encode_refusal,
    encode_reply,
)
from protocol.relay_module import (
    ALL_RELAYS,
    FLASH_OFF_BASE,
    FLASH_ON_BASE,
    FLASH_STEP_MS,
    HR_FIRMWARE,
    HR_UNIT_ADDRESS,
    MAX_CHANNELS,
    MAX_FLASH_STEPS,
)

from ..physics import Compartment

FIRMWARE = 100  # "V1.00"
InputKind = Literal["door", "item"]


@dataclass(frozen=True, slots=True)
class InputWire:
    compartment: Compartment
    kind: InputKind

    def level(self) -> bool:
        if self.kind == "door":
            return self.compartment.door_closed_signal
        return self.compartment.item_signal


@dataclass(frozen=True, slots=True)
class _Timer:
    deadline: float
    then_on: bool


class RelayModule:
    family = RELAY.name

    def __init__(
        self,
        unit: int,
        locks: Sequence[Compartment | None],
        inputs: Sequence[InputWire | None],
        *,
        now: float = 0.0,
    ) -> None:
        if not 1 <= unit <= MAX_UNIT:
            raise ValueError(f"unit {unit} is outside 1..{MAX_UNIT}")
        if not 1 <= len(locks) <= MAX_CHANNELS or len(inputs) != len(locks):
            raise ValueError(
                f"a relay module has 1..{MAX_CHANNELS} relays and as many inputs, "
                f"not {len(locks)} and {len(inputs)}"
            )
        self._unit = unit
        self.stored_unit = unit
        self.channels = len(locks)
        self._locks = list(locks)
        self._inputs = list(inputs)
        self.relays = [False] * self.channels
        self._timers: list[_Timer | None] = [None] * self.channels
        self.power_up(now)

    @property
    def unit(self) -> int:
        return self._unit

    def power_up(self, now: float) -> None:
        self._unit = self.stored_unit
        for ch in range(self.channels):
            self._set(ch, False, now)

    def next_deadline(self) -> float | None:
        return min((t.deadline for t in self._timers if t is not None), default=None)

    def tick(self, now: float) -> None:
        for ch, timer in enumerate(self._timers):
            if timer is not None and timer.deadline <= now:
                self._set(ch, timer.then_on, timer.deadline)

    def on_request(self, frame: bytes, now: float) -> bytes | None:
        self.tick(now)
        decoded = decode_request(frame)
        match decoded:
            case Ignored():
                return None
            case Refused():
                return encode_refusal(decoded) if decoded.unit == self._unit else None
            case DecodedRequest(unit=unit, request=request) if unit == BROADCAST:
                if isinstance(request, WriteSingleCoil | WriteSingleRegister):
                    self._execute(request, now)
                return None
            case DecodedRequest(unit=unit, request=request) if unit == self._unit:
                return encode_reply(unit, self._execute(request, now))
        return None

    def _execute(self, request: Request, now: float) -> Reply | ExceptionReply:
        fn = request.function
        match request:
            case ReadCoils(address=address, count=count):
                if address + count > self.channels:
                    return ExceptionReply(fn, ExceptionCode.ILLEGAL_DATA_ADDRESS)
                return BitsReply(fn, tuple(self.relays[address : address + count]))
            case ReadDiscreteInputs(address=address, count=count):
                if address + count > self.channels:
                    return ExceptionReply(fn, ExceptionCode.ILLEGAL_DATA_ADDRESS)
                levels = tuple(w is not None and w.level() for w in self._inputs)
                return BitsReply(fn, levels[address : address + count])
            case ReadHoldingRegisters(address=address, count=1) if address == HR_UNIT_ADDRESS:
                return RegistersReply(fn, (self.stored_unit,))
            case ReadHoldingRegisters(address=address, count=1) if address == HR_FIRMWARE:
                return RegistersReply(fn, (FIRMWARE,))
            case ReadHoldingRegisters():
                return ExceptionReply(fn, ExceptionCode.ILLEGAL_DATA_ADDRESS)
            case WriteSingleRegister(address=address, value=value):
                if address != HR_UNIT_ADDRESS:
                    return ExceptionReply(fn, ExceptionCode.ILLEGAL_DATA_ADDRESS)
                if not 1 <= value <= MAX_UNIT:
                    return ExceptionReply(fn, ExceptionCode.ILLEGAL_DATA_VALUE)
                self.stored_unit = value
                return WriteEcho(fn, address, value)
            case WriteSingleCoil(address=address, value=value):
                refusal = self._write_coil(address, value, now)
                if refusal is not None:
                    return ExceptionReply(fn, refusal)
                return WriteEcho(fn, address, value)
        return ExceptionReply(fn, ExceptionCode.ILLEGAL_FUNCTION)

    def _write_coil(self, address: int, value: int, now: float) -> ExceptionCode | None:
        if address < self.channels or address == ALL_RELAYS:
            if value not in (COIL_ON, COIL_OFF):
                return ExceptionCode.ILLEGAL_DATA_VALUE
            targets = range(self.channels) if address == ALL_RELAYS else (address,)
            for ch in targets:
                self._set(ch, value == COIL_ON, now)
            return None
        for base, on in ((FLASH_ON_BASE, True), (FLASH_OFF_BASE, False)):
            if base <= address < base + self.channels:
                if not 1 <= value <= MAX_FLASH_STEPS:
                    return ExceptionCode.ILLEGAL_DATA_VALUE
                ch = address - base
                self._set(ch, on, now)
                self._timers[ch] = _Timer(now + value * FLASH_STEP_MS / 1000, not on)
                return None
        return ExceptionCode.ILLEGAL_DATA_ADDRESS

    def _set(self, ch: int, on: bool, now: float) -> None:
        self._timers[ch] = None
        self.relays[ch] = on
        lock = self._locks[ch]
        if lock is not None:
            lock.drive(on, now)

    def snapshot(self) -> dict[str, object]:
        return {
            "family": self.family,
            "unit": self._unit,
            "stored_unit": self.stored_unit,
            "channels": self.channels,
            "relays_on": [i + 1 for i, on in enumerate(self.relays) if on],
        }
