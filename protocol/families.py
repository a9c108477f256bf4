"""The board families: one entry per family, the facts every package reads.

A family's entry says what the rest of the project needs to know before it
talks to a board: its name in configuration files, how its frames are
framed, how many lock channels a board has, which addresses it takes, the
line format a bus of these boards runs unless told otherwise, whether the
host sends a pulse length with each unlock (`pulse_ms`) or the board times
every unlock from its own setting (`unlock_ms`), what it can sense and
report, and its firmware variants. The numbers are the codecs' (each fact
is defined once, next to the wire rule it comes from); this module only
gathers them.

Who reads it: the bus adapter (configuration checks, which line protocol a
bus speaks), the daemon's configuration and commissioning, the simulator
(layouts, which board model and dialect serve a family). Behaviour stays
with the family: its codec here in `protocol/`, its driver, its simulator
model, each found through a lookup keyed by `Family.name`.

`FAMILIES` is the registry, in a stable order (the documents list the
families in it). docs/boards.md carries `render_family_table()`; a test
regenerates it and fails on any difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from . import kerong
from . import reference_board as rb
from . import relay_module as rm
from .errors import UsageError
from .modbus import DEFAULT_FORMAT as MODBUS_DEFAULT_FORMAT
from .modbus import MAX_UNIT
from .timing import SerialFormat


class Framing(StrEnum):
    """How frames are told apart on the line; a bus carries one framing only."""

    MODBUS = "modbus"  # Modbus RTU: protocol/modbus
    KERONG = "kerong"  # STX .. ETX + 8-bit SUM: protocol/kerong


class Capability(StrEnum):
    DOOR_SWITCH = "door_switch"  # a door switch per channel (a Kerong hook switch counts)
    ITEM_SENSOR = "item_sensor"  # an item-presence sensor per channel
    LOCK_FEEDBACK = "lock_feedback"  # the lock reports a fault
    LATCHED_CHANGES = "latched_changes"  # an open-and-close between two polls is never missed
    UNLOCK_ACKNOWLEDGED = "unlock_acknowledged"  # the board always answers an unlock
    SENSOR_INPUTS = "sensor_inputs"  # sensors are digital inputs, wired anywhere on the bus
    ADDRESS_OVER_BUS = "address_over_bus"  # `lockerd commission set-address` moves it


SENSORS = frozenset({Capability.DOOR_SWITCH, Capability.ITEM_SENSOR, Capability.LOCK_FEEDBACK})


@dataclass(frozen=True, slots=True)
class Bounds:
    """An inclusive range of integers; prints as configuration errors spell it (`1..247`)."""

    low: int
    high: int

    def __contains__(self, value: int) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low}..{self.high}"


@dataclass(frozen=True, slots=True)
class Family:
    name: str  # as configuration files spell it
    title: str  # what people call the board
    framing: Framing
    channels: Bounds  # lock channels on one board
    default_channels: int  # a board whose configuration does not say
    units: Bounds  # its address on the bus
    serial_format: SerialFormat  # a bus of these boards, unless configured otherwise
    capabilities: frozenset[Capability]
    pulse_ms: Bounds | None = None  # the host sends the pulse length with each unlock
    unlock_ms: Bounds | None = None  # the board times every unlock from its own setting
    default_unlock_ms: int | None = None
    # Firmware variants (a host probes or tolerates them); the first is the default.
    firmware: tuple[str, ...] = ()
    # How long a board may take to answer, in its response timeout; None: the
    # bus's `slave_allowance` default (a Modbus slave's processing time).
    reply_allowance: float | None = None

    def __post_init__(self) -> None:
        if self.default_channels not in self.channels:
            raise UsageError(
                f"{self.name}: {self.default_channels} channels is not in {self.channels}"
            )
        if (self.unlock_ms is None) != (self.default_unlock_ms is None):
            raise UsageError(f"{self.name}: unlock_ms and default_unlock_ms go together")

    def sensors(self) -> frozenset[Capability]:
        """What a channel of this family can read (before its wiring says what it does)."""
        return self.capabilities & SENSORS


REFERENCE = Family(
    name="reference",
    title="our reference lock board",
    framing=Framing.MODBUS,
    channels=Bounds(1, rb.MAX_CHANNELS),
    default_channels=24,
    units=Bounds(1, MAX_UNIT),
    serial_format=MODBUS_DEFAULT_FORMAT,
    capabilities=frozenset(
        {
            Capability.DOOR_SWITCH,
            Capability.ITEM_SENSOR,
            Capability.LOCK_FEEDBACK,
            Capability.LATCHED_CHANGES,
            Capability.UNLOCK_ACKNOWLEDGED,
            Capability.ADDRESS_OVER_BUS,
        }
    ),
    pulse_ms=Bounds(rb.PULSE_MIN_MS, rb.PULSE_MAX_MS),
)

# A module leaves the factory at 9600 8N1; a bus of them is set to the
# Modbus default like any other Modbus bus, or configured with its format.
RELAY = Family(
    name="relay",
    title="Waveshare-style Modbus relay + digital-input module",
    framing=Framing.MODBUS,
    channels=Bounds(1, rm.MAX_CHANNELS),
    default_channels=8,
    units=Bounds(1, MAX_UNIT),
    serial_format=MODBUS_DEFAULT_FORMAT,
    capabilities=frozenset(
        {
            Capability.DOOR_SWITCH,
            Capability.ITEM_SENSOR,
            Capability.SENSOR_INPUTS,
            Capability.UNLOCK_ACKNOWLEDGED,
            Capability.ADDRESS_OVER_BUS,
        }
    ),
    pulse_ms=Bounds(rm.FLASH_STEP_MS, rm.MAX_FLASH_STEPS * rm.FLASH_STEP_MS),
)

_KERONG_UNLOCK_MS = Bounds(kerong.UNLOCK_MS_MIN, kerong.UNLOCK_MS_MAX)

KERONG_CU16 = Family(
    name="kerong_cu16",
    title="Kerong KR-CU16",
    framing=Framing.KERONG,
    channels=Bounds(1, kerong.cu16.LOCKS),
    default_channels=kerong.cu16.LOCKS,
    units=Bounds(0, kerong.cu16.MAX_BOARD),
    serial_format=kerong.FACTORY_FORMAT,
    # An unlock may go unanswered (kerong-lib): a status read confirms it.
    capabilities=frozenset({Capability.DOOR_SWITCH, Capability.ITEM_SENSOR}),
    unlock_ms=_KERONG_UNLOCK_MS,
    default_unlock_ms=kerong.UNLOCK_MS_DEFAULT,
    firmware=tuple(v.value for v in kerong.cu16.Variant),
    reply_allowance=kerong.REPLY_ALLOWANCE_S,
)

KERONG_CU48 = Family(
    name="kerong_cu48",
    title="Kerong KR-CU48",
    framing=Framing.KERONG,
    channels=Bounds(1, kerong.cu48.LOCKS),
    default_channels=kerong.cu48.LOCKS,
    units=Bounds(0, kerong.cu48.MAX_BOARD),
    serial_format=kerong.FACTORY_FORMAT,
    # V2.1 never answers an unlock (the 0x60 variant's answer is unverified): a
    # status read confirms it.
    capabilities=frozenset({Capability.DOOR_SWITCH}),
    unlock_ms=_KERONG_UNLOCK_MS,
    default_unlock_ms=kerong.UNLOCK_MS_DEFAULT,
    firmware=tuple(v.value for v in kerong.cu48.Variant),
    reply_allowance=kerong.REPLY_ALLOWANCE_S,
)

FAMILIES: dict[str, Family] = {f.name: f for f in (REFERENCE, RELAY, KERONG_CU16, KERONG_CU48)}


def unit_span() -> Bounds:
    """Every address some family takes: a key checked before its board is known."""
    families = FAMILIES.values()
    return Bounds(min(f.units.low for f in families), max(f.units.high for f in families))


def render_family_table() -> str:
    """The table in docs/boards.md."""
    lines = [
        "| family | board | wire | channels | unit | unlock | senses and reports | firmware "
        "| reply allowance |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in FAMILIES.values():
        fmt = f.serial_format
        wire = f"{f.framing.value.capitalize()}, {fmt.baud} {fmt.name}"
        if f.pulse_ms is not None:
            unlock = f"`pulse_ms` {f.pulse_ms} per unlock"
        else:
            unlock = f"`unlock_ms` {f.unlock_ms} (a board setting, default {f.default_unlock_ms})"
        caps = ", ".join(c.value for c in Capability if c in f.capabilities)
        firmware = ", ".join(f"`{v}`" for v in f.firmware) or "-"
        allowance = "`slave_allowance`" if f.reply_allowance is None else f"{f.reply_allowance} s"
        lines.append(
            f"| `{f.name}` | {f.title} | {wire} | {f.channels} (default {f.default_channels}) "
            f"| {f.units} | {unlock} | {caps} | {firmware} | {allowance} |"
        )
    return "\n".join(lines) + "\n"
