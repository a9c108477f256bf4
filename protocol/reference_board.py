"""The reference lock board: our firmware contract, Modbus RTU.

Theory of operation. A host polls each board with ONE request, FC04 over
the status block, and learns everything: which doors are closed, which
compartments hold an item, which locks report a fault, and which doors
were seen open at any moment since the host last acknowledged. That last
field is latched by the board (the only latched field: the others,
`lock_fault` included, say what is true now), so a door opened and closed again between
two polls is never missed. Latches clear only through an acknowledgement
that names the change counter the host last read: if anything changed in
between, the counter moved on and the acknowledgement is ignored, so a
change that happens between the read and the acknowledgement survives.

Unlocking writes a pulse length to the channel's unlock register (FC06).
The board times the pulse itself, so a host crash mid-pulse cannot leave a
solenoid energised; writing again restarts the pulse, so a repeat is
harmless. At power-up every output is off and the `reset` flag is set.

Bit order: channel 1 is bit 0 (the LSB) of a field's first register,
channel 17 bit 0 of its second. A field is W = ceil(channels / 16)
registers long; the block is 2 + 4 W registers (10 for 24 channels, 14 for
48), one 25- or 33-byte reply.

`REGISTER_MAP` below is the table in docs/reference-board.md; a test
regenerates the document from it and fails on any difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag

from .errors import BusFault, FaultKind, UsageError
from .modbus.pdu import (
    ReadHoldingRegisters,
    ReadInputRegisters,
    RegistersReply,
    Reply,
    WriteMultipleRegisters,
    WriteSingleRegister,
)

MAGIC = 0x4C4B  # "LK"
MAP_VERSION = 1
MAX_CHANNELS = 48

# Input registers (FC04, read-only)
IR_MAGIC = 0x0000
IR_MAP_VERSION = 0x0001
IR_CHANNELS = 0x0002
IR_FIRMWARE = 0x0003
IR_MODEL = 0x0004
IR_SERIAL_HI = 0x0005
IR_SERIAL_LO = 0x0006
IR_CAPABILITIES = 0x0007
IDENTITY_COUNT = 8
IR_STATUS = 0x0010  # flags, change counter, then four fields of W registers

# Holding registers (FC03 read, FC06 / FC16 write)
HR_PULSE_DEFAULT_MS = 0x0000
HR_POLARITY = 0x0001
HR_ACK = 0x0002
HR_COMMAND = 0x0003
HR_UNIT_ADDRESS = 0x0004
HR_SERIAL_FORMAT = 0x0005  # baud code | frame code << 8, used from the next power-up
HOLDING_COUNT = 6  # 0x0000..0x0005, read and written as one block
HR_UNLOCK_BASE = 0x0100  # + (channel - 1): pulse length in ms, 0 = the default

COMMAND_ALL_OUTPUTS_OFF = 0x0A11
PULSE_MIN_MS = 50
PULSE_MAX_MS = 10_000
PULSE_DEFAULT_MS = 500

# Factory settings of a new board (and of a board whose stored settings are
# missing or corrupt: the FACTORY_DEFAULTS flag says so).
FACTORY_UNIT = 1
# Serial format register: the low byte indexes BAUD_RATES, the high byte FRAMES.
BAUD_RATES = (9600, 19200, 38400, 57600, 115200)
FRAMES = ("8E1", "8O1", "8N2", "8N1")
FACTORY_SERIAL_FORMAT = 1  # 19200 bps (code 1), 8E1 (code 0): the Modbus default


class StatusFlags(IntFlag):
    RESET = 0x0001  # set at power-up, cleared by a matching acknowledgement
    PULSE_ACTIVE = 0x0002  # at least one output is energised right now
    FACTORY_DEFAULTS = 0x0004  # no valid stored settings: running on factory defaults
    WATCHDOG = 0x0008  # the last reset was the watchdog's; cleared with RESET


class Polarity(IntFlag):
    """Which physical inputs are inverted before they reach the status bits."""

    DOOR_INVERTED = 0x0001
    ITEM_INVERTED = 0x0002
    LOCK_FEEDBACK_INVERTED = 0x0004


class Capabilities(IntFlag):
    DOOR_SWITCH = 0x0001
    ITEM_SENSOR = 0x0002
    LOCK_FEEDBACK = 0x0004


@dataclass(frozen=True, slots=True)
class RegisterRow:
    space: str  # "input" or "holding"
    address: str
    name: str
    access: str
    meaning: str


REGISTER_MAP: tuple[RegisterRow, ...] = (
    RegisterRow("input", "0x0000", "magic", "R", '0x4C4B ("LK"): this is a reference lock board'),
    RegisterRow("input", "0x0001", "map_version", "R", f"register map version, {MAP_VERSION}"),
    RegisterRow("input", "0x0002", "channels", "R", "number of lock channels, 1..48"),
    RegisterRow("input", "0x0003", "firmware", "R", "firmware version, major × 256 + minor"),
    RegisterRow("input", "0x0004", "model", "R", "model code"),
    RegisterRow("input", "0x0005", "serial_hi", "R", "serial number, high word"),
    RegisterRow("input", "0x0006", "serial_lo", "R", "serial number, low word"),
    RegisterRow(
        "input",
        "0x0007",
        "capabilities",
        "R",
        "bit 0 door switches, bit 1 item sensors, bit 2 lock feedback wired",
    ),
    RegisterRow(
        "input",
        "0x0010",
        "flags",
        "R",
        "bit 0 reset (set at power-up, cleared by a matching ack), bit 1 a pulse is active, "
        "bit 2 factory defaults (no valid stored settings; cleared when a setting is written), "
        "bit 3 the last reset was the watchdog's (cleared with bit 0)",
    ),
    RegisterRow(
        "input", "0x0011", "change_counter", "R", "+1 (mod 65536) on every door, item or fault edge"
    ),
    RegisterRow(
        "input",
        "0x0012",
        "door_closed[W]",
        "R",
        "1 = door closed; channel 1 = bit 0 of the first register",
    ),
    RegisterRow("input", "0x0012+W", "item_present[W]", "R", "1 = item sensed"),
    RegisterRow(
        "input",
        "0x0012+2W",
        "lock_fault[W]",
        "R",
        "1 = now, not latched: a settled output and its lock feedback disagree "
        "(on with the bolt not released: jammed or open coil; off with the bolt released)",
    ),
    RegisterRow(
        "input",
        "0x0012+3W",
        "door_opened_latch[W]",
        "R",
        "1 = door was open at some moment since the last matching ack",
    ),
    RegisterRow(
        "holding",
        "0x0000",
        "pulse_default_ms",
        "RW",
        f"unlock pulse when 0 is written to an unlock register, "
        f"{PULSE_MIN_MS}..{PULSE_MAX_MS}, default {PULSE_DEFAULT_MS}",
    ),
    RegisterRow(
        "holding",
        "0x0001",
        "polarity",
        "RW",
        "bit 0 invert door inputs, bit 1 invert item inputs, bit 2 invert lock feedback",
    ),
    RegisterRow(
        "holding",
        "0x0002",
        "ack",
        "W",
        "write the change_counter last read: clears the latches and the reset flag "
        "if nothing changed since; otherwise ignored",
    ),
    RegisterRow(
        "holding",
        "0x0003",
        "command",
        "W",
        "0x0A11 = all outputs off now; any other value: exception 03",
    ),
    RegisterRow(
        "holding",
        "0x0004",
        "unit_address",
        "RW",
        "Modbus address 1..247; the reply still comes from the old address",
    ),
    RegisterRow(
        "holding",
        "0x0005",
        "serial_format",
        "RW",
        "low byte baud: 0 = 9600, 1 = 19200, 2 = 38400, 3 = 57600, 4 = 115200; "
        "high byte frame: 0 = 8E1, 1 = 8O1, 2 = 8N2, 3 = 8N1; used from the next power-up",
    ),
    RegisterRow(
        "holding",
        "0x0100+ch-1",
        "unlock[ch]",
        "RW",
        f"write: pulse channel ch for that many ms ({PULSE_MIN_MS}..{PULSE_MAX_MS}, "
        "0 = default); repeating restarts the pulse; read: ms left",
    ),
)


def field_width(channels: int) -> int:
    _check_channels(channels)
    return (channels + 15) // 16


def status_register_count(channels: int) -> int:
    return 2 + 4 * field_width(channels)


def _check_channels(channels: int) -> None:
    if not 1 <= channels <= MAX_CHANNELS:
        raise UsageError(f"a reference board has 1..{MAX_CHANNELS} channels, not {channels}")


def _check_channel(channel: int, channels: int) -> None:
    if not 1 <= channel <= channels:
        raise UsageError(f"channel {channel} is outside 1..{channels}")


# -- requests the host sends -------------------------------------------------


def identity_request() -> ReadInputRegisters:
    return ReadInputRegisters(IR_MAGIC, IDENTITY_COUNT)


def status_request(channels: int) -> ReadInputRegisters:
    return ReadInputRegisters(IR_STATUS, status_register_count(channels))


def unlock_request(channel: int, channels: int, pulse_ms: int = 0) -> WriteSingleRegister:
    _check_channel(channel, channels)
    if pulse_ms != 0 and not PULSE_MIN_MS <= pulse_ms <= PULSE_MAX_MS:
        raise UsageError(f"pulse {pulse_ms} ms is outside {PULSE_MIN_MS}..{PULSE_MAX_MS}")
    return WriteSingleRegister(HR_UNLOCK_BASE + channel - 1, pulse_ms)


def ack_request(change_counter: int) -> WriteSingleRegister:
    return WriteSingleRegister(HR_ACK, change_counter & 0xFFFF)


def all_outputs_off_request() -> WriteSingleRegister:
    return WriteSingleRegister(HR_COMMAND, COMMAND_ALL_OUTPUTS_OFF)


def set_unit_address_request(new_unit: int) -> WriteSingleRegister:
    if not 1 <= new_unit <= 247:
        raise UsageError(f"unit address {new_unit} is outside 1..247")
    return WriteSingleRegister(HR_UNIT_ADDRESS, new_unit)


def configure_request(pulse_default_ms: int, polarity: Polarity) -> WriteMultipleRegisters:
    if not PULSE_MIN_MS <= pulse_default_ms <= PULSE_MAX_MS:
        raise UsageError(f"pulse {pulse_default_ms} ms is outside {PULSE_MIN_MS}..{PULSE_MAX_MS}")
    return WriteMultipleRegisters(HR_PULSE_DEFAULT_MS, (pulse_default_ms, int(polarity)))


def set_serial_format_request(baud: int, frame: str) -> WriteSingleRegister:
    if baud not in BAUD_RATES:
        raise UsageError(f"baud {baud} is not one of {', '.join(map(str, BAUD_RATES))}")
    if frame not in FRAMES:
        raise UsageError(f"frame {frame!r} is not one of {', '.join(FRAMES)}")
    return WriteSingleRegister(HR_SERIAL_FORMAT, BAUD_RATES.index(baud) | FRAMES.index(frame) << 8)


def config_read_request() -> ReadHoldingRegisters:
    return ReadHoldingRegisters(HR_PULSE_DEFAULT_MS, HOLDING_COUNT)


# -- what the host learns ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    map_version: int
    channels: int
    firmware: tuple[int, int]
    model: int
    serial: int
    capabilities: Capabilities


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    door_closed: bool
    item_present: bool
    lock_fault: bool
    opened_since_ack: bool


@dataclass(frozen=True, slots=True)
class BoardStatus:
    flags: StatusFlags
    change_counter: int
    channels: tuple[ChannelStatus, ...]  # channels[0] is channel 1

    def channel(self, number: int) -> ChannelStatus:
        _check_channel(number, len(self.channels))
        return self.channels[number - 1]


def _registers(reply: Reply | BusFault, expected: int) -> tuple[int, ...] | BusFault:
    if isinstance(reply, BusFault):
        return reply
    if not isinstance(reply, RegistersReply) or len(reply.registers) != expected:
        return BusFault(FaultKind.MISMATCH, f"expected {expected} registers, got {reply}")
    return reply.registers


def parse_identity(reply: Reply | BusFault) -> Identity | BusFault:
    regs = _registers(reply, IDENTITY_COUNT)
    if isinstance(regs, BusFault):
        return regs
    if regs[IR_MAGIC] != MAGIC:
        return BusFault(
            FaultKind.MISMATCH,
            f"magic 0x{regs[IR_MAGIC]:04X} is not 0x{MAGIC:04X}: not a reference board",
        )
    if not 1 <= regs[IR_CHANNELS] <= MAX_CHANNELS:
        return BusFault(FaultKind.MISMATCH, f"board reports {regs[IR_CHANNELS]} channels")
    return Identity(
        map_version=regs[IR_MAP_VERSION],
        channels=regs[IR_CHANNELS],
        firmware=(regs[IR_FIRMWARE] >> 8, regs[IR_FIRMWARE] & 0xFF),
        model=regs[IR_MODEL],
        serial=regs[IR_SERIAL_HI] << 16 | regs[IR_SERIAL_LO],
        capabilities=Capabilities(regs[IR_CAPABILITIES] & 0x7),
    )


def _bits(words: tuple[int, ...], channels: int) -> list[bool]:
    return [bool(words[i // 16] >> (i % 16) & 1) for i in range(channels)]


def parse_status(reply: Reply | BusFault, channels: int) -> BoardStatus | BusFault:
    regs = _registers(reply, status_register_count(channels))
    if isinstance(regs, BusFault):
        return regs
    w = field_width(channels)
    fields = [_bits(regs[2 + k * w : 2 + (k + 1) * w], channels) for k in range(4)]
    return BoardStatus(
        flags=StatusFlags(regs[0] & 0xF),
        change_counter=regs[1],
        channels=tuple(ChannelStatus(*per_channel) for per_channel in zip(*fields, strict=True)),
    )


def encode_status(status: BoardStatus) -> tuple[int, ...]:
    """The registers a board answers with (the simulator's side)."""
    channels = len(status.channels)
    w = field_width(channels)
    words = [int(status.flags), status.change_counter & 0xFFFF]
    for attr in ("door_closed", "item_present", "lock_fault", "opened_since_ack"):
        field = [0] * w
        for index, ch in enumerate(status.channels):
            if getattr(ch, attr):
                field[index // 16] |= 1 << (index % 16)
        words += field
    return tuple(words)


def encode_identity(identity: Identity) -> tuple[int, ...]:
    major, minor = identity.firmware
    return (
        MAGIC,
        identity.map_version,
        identity.channels,
        major << 8 | minor,
        identity.model,
        identity.serial >> 16 & 0xFFFF,
        identity.serial & 0xFFFF,
        int(identity.capabilities),
    )


def render_register_table() -> str:
    lines = ["| space | address | name | access | meaning |", "|---|---|---|---|---|"]
    lines += [
        f"| {r.space} | `{r.address}` | `{r.name}` | {r.access} | {r.meaning} |"
        for r in REGISTER_MAP
    ]
    return "\n".join(lines) + "\n"
