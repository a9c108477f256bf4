"""Configuration of one RS-485 bus: the port, its timing and its boards.

Every value is checked when the dataclass is built; a problem raises
`BusConfigError` whose `field` names it the way a configuration file would
(`boards[2].channels[4].door.input`), so an installer can fix the file
without reading this code. Durations are seconds.

Board families (DESIGN.md section 5): every fact of a family (its channels,
addresses, pulse bounds, framing, what it senses) is its entry in
`protocol.families`; the classes below hold what a site chose, checked
against that entry. A family with keys of its own adds a class here.

- `ReferenceBoardConfig`: our lock board. Each channel carries a lock, a
  door switch and an item sensor; polarity and the default pulse are
  written to the board at start-up, which applies them itself.
- `RelayBoardConfig`: a Waveshare-style relay + digital-input module. Relay
  n drives compartment n's lock; its door switch and item sensor are inputs
  on this or another module of the same bus (`InputRef`). Polarity is
  applied by the host: the module has no polarity register.
- `KerongBoardConfig`: a Kerong CU16 or CU48 (not Modbus: protocol/kerong).
  The hook switch reads the door, the CU16's infrared sensor the item; both
  polarities are applied by the host. A bus is either Modbus or Kerong:
  the two cannot share a line (`BusConfig.line_protocol`, the family's framing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from protocol import reference_board as rb
from protocol.families import FAMILIES, REFERENCE, RELAY, Bounds, Capability, Family, Framing
from protocol.timing import SerialFormat

from .errors import BusConfigError
from .timing import PROMPT_REPLY_ALLOWANCE

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True, slots=True)
class SensorPolarity:
    """Which inputs read inverted (normally-open vs normally-closed switches,
    lock models whose feedback shorts on lock or on unlock: field lessons 8)."""

    door_inverted: bool = False
    item_inverted: bool = False
    lock_feedback_inverted: bool = False


@dataclass(frozen=True, slots=True)
class InputRef:
    """A digital input of a relay / DI module: `input` is 1-based as on the silk screen."""

    unit: int
    input: int


@dataclass(frozen=True, slots=True)
class RelayChannelConfig:
    door: InputRef | None = None  # None: no door switch
    item: InputRef | None = None  # None: no item sensor


class BoardConfig(Protocol):
    """What the bus, the daemon and commissioning need of any family's configuration.

    `family` is a name in `protocol.families.FAMILIES`; `check` raises
    `BusConfigError` naming the key (`boards[2].unit`) of a value outside what
    the family's registry entry allows."""

    @property
    def family(self) -> str: ...

    @property
    def unit(self) -> int: ...

    @property
    def polarity(self) -> SensorPolarity: ...

    @property
    def poll_interval(self) -> float | None: ...

    @property
    def response_timeout(self) -> float | None: ...

    @property
    def locks(self) -> int:
        """Lock channels in use: 1..locks."""
        ...

    def check(self, key: str) -> None: ...

    def sensors(self, channel: int) -> frozenset[Capability]:
        """What channel `channel` reads: door switch, item sensor, lock feedback."""
        ...


@dataclass(frozen=True, slots=True)
class ReferenceBoardConfig:
    """Our lock board, and any family without configuration keys of its own
    (`family`): every channel carries a lock and the sensors the family reads
    on it; the pulse length goes with each unlock. The family's registry
    entry bounds `unit`, `channels` and `pulse_ms`."""

    unit: int
    channels: int
    pulse_ms: int = rb.PULSE_DEFAULT_MS
    polarity: SensorPolarity = SensorPolarity()
    poll_interval: float | None = None  # None: the bus's
    response_timeout: float | None = None  # None: computed from the serial format
    family: str = field(default=REFERENCE.name, kw_only=True)

    def check(self, key: str) -> None:
        family = _family(self.family, key)
        _within(self.unit, family.units, f"{key}.unit")
        _within(self.channels, family.channels, f"{key}.channels")
        if family.pulse_ms is None:
            raise BusConfigError(f"{key}.family", f"{family.name} boards need keys of their own")
        _within(self.pulse_ms, family.pulse_ms, f"{key}.pulse_ms")
        _optional_seconds(self.poll_interval, f"{key}.poll_interval")
        _optional_seconds(self.response_timeout, f"{key}.response_timeout")

    @property
    def locks(self) -> int:
        return self.channels

    def sensors(self, channel: int) -> frozenset[Capability]:
        # The board's identity says at run time which are fitted.
        return FAMILIES[self.family].sensors()


@dataclass(frozen=True, slots=True)
class RelayBoardConfig:
    unit: int
    channels: tuple[RelayChannelConfig, ...]  # channels[n - 1]: relay n
    pulse_ms: int = 500  # rounded up to the module's 100 ms steps
    polarity: SensorPolarity = SensorPolarity()
    poll_interval: float | None = None  # no latches: poll faster than reference boards
    response_timeout: float | None = None
    family: str = field(default=RELAY.name, init=False)

    @classmethod
    def self_wired(
        cls,
        unit: int,
        channels: int,
        *,
        pulse_ms: int = 500,
        polarity: SensorPolarity = SensorPolarity(),
        poll_interval: float | None = None,
    ) -> RelayBoardConfig:
        """Relay n drives the lock and input n of the same module reads the door."""
        wiring = tuple(RelayChannelConfig(door=InputRef(unit, n)) for n in range(1, channels + 1))
        return cls(unit, wiring, pulse_ms, polarity, poll_interval)

    def check(self, key: str) -> None:
        family = FAMILIES[self.family]
        _within(self.unit, family.units, f"{key}.unit")
        if len(self.channels) not in family.channels:
            raise BusConfigError(
                f"{key}.channels", f"{len(self.channels)} relays is outside {family.channels}"
            )
        for n, channel in enumerate(self.channels):
            for name in ("door", "item"):
                ref: InputRef | None = getattr(channel, name)
                if ref is None:
                    continue
                where = f"{key}.channels[{n}].{name}"
                _within(ref.unit, family.units, f"{where}.unit")
                # A module has as many inputs as it may have relays.
                _within(ref.input, family.channels, f"{where}.input")
        assert family.pulse_ms is not None
        _within(self.pulse_ms, family.pulse_ms, f"{key}.pulse_ms")
        _optional_seconds(self.poll_interval, f"{key}.poll_interval")
        _optional_seconds(self.response_timeout, f"{key}.response_timeout")

    @property
    def locks(self) -> int:
        return len(self.channels)

    def sensors(self, channel: int) -> frozenset[Capability]:
        wiring = self.channels[channel - 1]
        found = set()
        if wiring.door is not None:
            found.add(Capability.DOOR_SWITCH)
        if wiring.item is not None:
            found.add(Capability.ITEM_SENSOR)
        return frozenset(found)

    def input_units(self) -> dict[int, int]:
        """Every module whose inputs this board reads, with how many inputs to read."""
        counts: dict[int, int] = {}
        for channel in self.channels:
            for ref in (channel.door, channel.item):
                if ref is not None:
                    counts[ref.unit] = max(counts.get(ref.unit, 0), ref.input)
        return dict(sorted(counts.items()))


@dataclass(frozen=True, slots=True)
class KerongBoardConfig:
    """A Kerong CU16 (16 locks, hook + infrared) or CU48 (48 locks, hook only),
    or any family whose boards time their own unlock (`unlock_ms` in its
    registry entry).

    `unit` is the board's address, in its family's `units`. `unlock_ms` is how long the
    board drives a lock: a board setting (the vendor's tools set it), which
    the host uses to tell how long a release lasts; an unlock cannot ask for
    another length on the wire. `polarity.door_inverted` inverts the hook
    switch (NO vs NC hooks), `item_inverted` the CU16's infrared sensors.
    """

    family: str
    unit: int
    channels: int | None = None  # None: all the board has (16 or 48); n: locks 1..n
    unlock_ms: int = 500
    polarity: SensorPolarity = SensorPolarity()
    poll_interval: float | None = None  # no latches: poll faster than reference boards
    response_timeout: float | None = None

    def check(self, key: str) -> None:
        family = FAMILIES.get(self.family)
        if family is None or family.unlock_ms is None:
            raise BusConfigError(f"{key}.family", f"{self.family!r} is not a Kerong board")
        _within(self.unit, family.units, f"{key}.unit")
        if self.channels is not None:
            _within(self.channels, family.channels, f"{key}.channels")
        _within(self.unlock_ms, family.unlock_ms, f"{key}.unlock_ms")
        if not self.has_item_sensor and self.polarity.item_inverted:
            raise BusConfigError(
                f"{key}.polarity.item_inverted", f"a {family.title} has no item sensor"
            )
        if self.polarity.lock_feedback_inverted:
            raise BusConfigError(
                f"{key}.polarity.lock_feedback_inverted", "the hook switch is the door's"
            )
        _optional_seconds(self.poll_interval, f"{key}.poll_interval")
        _optional_seconds(self.response_timeout, f"{key}.response_timeout")

    @property
    def locks(self) -> int:
        return FAMILIES[self.family].channels.high if self.channels is None else self.channels

    @property
    def has_item_sensor(self) -> bool:
        return Capability.ITEM_SENSOR in FAMILIES[self.family].capabilities

    def sensors(self, channel: int) -> frozenset[Capability]:
        # The hook switch is the door's.
        return FAMILIES[self.family].sensors() - {Capability.LOCK_FEEDBACK}


@dataclass(frozen=True, slots=True)
class BusConfig:
    name: str
    port: str  # the device path, e.g. /dev/ttyUSB0 or a udev by-id link
    boards: tuple[BoardConfig, ...]
    format: SerialFormat = REFERENCE.serial_format
    poll_interval: float = 0.5  # Open-Locker ADR-0038; latches cover the rest
    # Extra silence some firmware needs beyond t3.5 (modbus-timing 1.4); the
    # gap before a request is max(t3.5, min_gap).
    min_gap: float = 0.0
    # Response timeout = request wire time + t3.5 + reply wire time + these
    # two (modbus-timing 1.3): the board's worst processing time and the USB
    # adapter's buffering (FTDI latency timer: 16 ms unless tuned). None: the
    # boards' family says (`reply_allowance`: timing.py).
    slave_allowance: float | None = None
    adapter_allowance: float = 0.016
    read_retries: int = 1  # reads of a healthy board only; writes are never retried
    failures_until_offline: int = 3
    probe_backoff_initial: float = 1.0
    probe_backoff_max: float = 30.0
    reopen_backoff_initial: float = 0.25  # the serial port, after it is lost
    reopen_backoff_max: float = 5.0

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise BusConfigError("name", f"{self.name!r} must be 1-32 letters, digits, _ or -")
        if not self.port:
            raise BusConfigError("port", "the serial device path is empty")
        if not self.boards:
            raise BusConfigError("boards", "a bus needs at least one board")
        framings = sorted({FAMILIES[b.family].framing for b in self.boards if b.family in FAMILIES})
        if len(framings) > 1:
            kinds = " and ".join(f.value.capitalize() for f in framings)
            raise BusConfigError(
                "boards", f"{kinds} boards cannot share a bus: give each its own port"
            )
        seen: dict[int, int] = {}
        for i, board in enumerate(self.boards):
            board.check(f"boards[{i}]")
            if board.unit in seen:
                raise BusConfigError(
                    f"boards[{i}].unit", f"{board.unit} is already boards[{seen[board.unit]}]"
                )
            seen[board.unit] = i
        self._check_inputs(seen)
        _seconds(self.poll_interval, "poll_interval", allow_zero=True)
        for name in ("min_gap", "adapter_allowance"):
            _seconds(getattr(self, name), name, allow_zero=True)
        if self.slave_allowance is not None:
            _seconds(self.slave_allowance, "slave_allowance", allow_zero=True)
        if self.read_retries not in (0, 1):
            raise BusConfigError("read_retries", f"{self.read_retries} is not 0 or 1")
        if self.failures_until_offline < 1:
            raise BusConfigError("failures_until_offline", "must be at least 1")
        for prefix in ("probe_backoff", "reopen_backoff"):
            initial, maximum = getattr(self, f"{prefix}_initial"), getattr(self, f"{prefix}_max")
            _seconds(initial, f"{prefix}_initial")
            if maximum < initial:
                raise BusConfigError(f"{prefix}_max", f"{maximum} is below {prefix}_initial")

    @property
    def line_protocol(self) -> Framing:
        return FAMILIES[self.boards[0].family].framing

    @property
    def reply_allowance(self) -> float:
        """The board's processing time in every response timeout of this bus:
        `slave_allowance` if set, else the slowest of its families'."""
        if self.slave_allowance is not None:
            return self.slave_allowance
        families = (FAMILIES[b.family] for b in self.boards)
        return max(
            PROMPT_REPLY_ALLOWANCE if f.reply_allowance is None else f.reply_allowance
            for f in families
        )

    def _check_inputs(self, units: dict[int, int]) -> None:
        for i, board in enumerate(self.boards):
            if not isinstance(board, RelayBoardConfig):
                continue
            for n, channel in enumerate(board.channels):
                for name, ref in (("door", channel.door), ("item", channel.item)):
                    if ref is None or ref.unit not in units:
                        continue
                    other = self.boards[units[ref.unit]]
                    if Capability.SENSOR_INPUTS not in FAMILIES[other.family].capabilities:
                        raise BusConfigError(
                            f"boards[{i}].channels[{n}].{name}.unit",
                            f"unit {ref.unit} is a {other.family} board, not an input module",
                        )

    def board(self, unit: int) -> BoardConfig | None:
        return next((b for b in self.boards if b.unit == unit), None)


def _family(name: str, key: str) -> Family:
    family = FAMILIES.get(name)
    if family is None:
        raise BusConfigError(f"{key}.family", f"{name!r} is not one of {', '.join(FAMILIES)}")
    return family


def _within(value: int, bounds: Bounds, key: str) -> None:
    if value not in bounds:
        raise BusConfigError(key, f"{value} is outside {bounds}")


def _seconds(value: float, key: str, *, allow_zero: bool = False) -> None:
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 3600):
        low = ">= 0" if allow_zero else "> 0"
        raise BusConfigError(key, f"{value} s must be {low} and <= 3600")


def _optional_seconds(value: float | None, key: str) -> None:
    if value is not None:
        _seconds(value, key)
