"""Generic Modbus relay + digital-input modules (Waveshare "Modbus RTU Relay" style).

These are not lock boards: a relay drives the solenoid and the door switch
(and, on the same or another module, the item sensor) is wired to a
digital input. A compartment therefore maps to one relay channel and one or
two input channels, possibly on different modules.

Wire facts (Waveshare Modbus RTU Relay wiki, as used by Open-Locker):
- relays are coils 0x0000.. (FC01 read, FC05 write 0xFF00 / 0x0000);
  coil 0x00FF addresses all relays at once;
- inputs are discrete inputs 0x0000.. (FC02);
- "flash on": FC05 to 0x0200 + channel with the value = pulse in 100 ms
  units; the module switches the relay off by itself (a board-timed pulse);
- the unit address is holding register 0x4000, the firmware version 0x8000.

Channel numbers in this API are 1-based like the module's silk screen;
the wire addresses are 0-based.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import BusFault, FaultKind, UsageError
from .modbus.pdu import (
    COIL_OFF,
    BitsReply,
    ReadCoils,
    ReadDiscreteInputs,
    ReadHoldingRegisters,
    Reply,
    WriteSingleCoil,
    WriteSingleRegister,
)

FLASH_ON_BASE = 0x0200
FLASH_OFF_BASE = 0x0400
ALL_RELAYS = 0x00FF
HR_UNIT_ADDRESS = 0x4000
HR_FIRMWARE = 0x8000
FLASH_STEP_MS = 100
MAX_FLASH_STEPS = 0x7FFF
MAX_CHANNELS = 32


def _check_channel(channel: int, channels: int) -> None:
    if not 1 <= channels <= MAX_CHANNELS:
        raise UsageError(f"a relay module has 1..{MAX_CHANNELS} channels, not {channels}")
    if not 1 <= channel <= channels:
        raise UsageError(f"channel {channel} is outside 1..{channels}")


def flash_steps(pulse_ms: int) -> int:
    """Pulse length in the module's 100 ms steps, rounded up (never shorter)."""
    if pulse_ms <= 0:
        raise UsageError(f"pulse must be positive, got {pulse_ms} ms")
    steps = -(-pulse_ms // FLASH_STEP_MS)
    if steps > MAX_FLASH_STEPS:
        raise UsageError(f"pulse {pulse_ms} ms exceeds {MAX_FLASH_STEPS * FLASH_STEP_MS} ms")
    return steps


def pulse_request(channel: int, channels: int, pulse_ms: int) -> WriteSingleCoil:
    _check_channel(channel, channels)
    return WriteSingleCoil(FLASH_ON_BASE + channel - 1, flash_steps(pulse_ms), raw=True)


def all_relays_off_request() -> WriteSingleCoil:
    return WriteSingleCoil(ALL_RELAYS, COIL_OFF)


def inputs_request(channels: int) -> ReadDiscreteInputs:
    return ReadDiscreteInputs(0, channels)


def relays_request(channels: int) -> ReadCoils:
    return ReadCoils(0, channels)


def firmware_request() -> ReadHoldingRegisters:
    return ReadHoldingRegisters(HR_FIRMWARE, 1)


def set_unit_address_request(new_unit: int) -> WriteSingleRegister:
    # Waveshare: written through broadcast (unit 0) with one module on the
    # bus, then the module is power-cycled.
    if not 1 <= new_unit <= 247:
        raise UsageError(f"unit address {new_unit} is outside 1..247")
    return WriteSingleRegister(HR_UNIT_ADDRESS, new_unit)


@dataclass(frozen=True, slots=True)
class InputStates:
    bits: tuple[bool, ...]  # bits[0] is input 1, raw (polarity is the host's business)

    def channel(self, number: int) -> bool:
        _check_channel(number, len(self.bits))
        return self.bits[number - 1]


def parse_bits(reply: Reply | BusFault, channels: int) -> InputStates | BusFault:
    if isinstance(reply, BusFault):
        return reply
    if not isinstance(reply, BitsReply) or len(reply.bits) != channels:
        return BusFault(FaultKind.MISMATCH, f"expected {channels} bits, got {reply}")
    return InputStates(reply.bits)
