"""`[[buses]]` and their `[[buses.boards]]`: the bus adapter's own configuration.

Families are the entries of `protocol.families` (docs/boards.md lists them):
a board's `family` names one, whose entry bounds its keys and gives the
bus's line format when the bus names none (Modbus: 19200 8E1, Kerong:
19200 8N1, the boards' factory setting); a bus carries one framing only.
A family with keys of its own has its parser in `BOARD_PARSERS`; any other
takes `unit`, `channels`, `pulse_ms` and `polarity` (`_lock_board`).

Every key is checked here for its type and, where the bus adapter has no
opinion, its range; `BusConfig` then checks the rest (a unit used twice, an
input module that is a lock board) and its `ConfigError` is re-raised under
the full key (`buses[0].boards[1].unit`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from locker_host.bus import (
    BoardConfig,
    BusConfig,
    BusConfigError,
    InputRef,
    KerongBoardConfig,
    ReferenceBoardConfig,
    RelayBoardConfig,
    RelayChannelConfig,
    SensorPolarity,
)
from protocol.families import (
    FAMILIES,
    KERONG_CU16,
    KERONG_CU48,
    REFERENCE,
    RELAY,
    Capability,
    Family,
)
from protocol.timing import SerialFormat

from .fields import ConfigError, Table, unique

NAME = r"[A-Za-z0-9_-]{1,32}"
FORMATS = ("8E1", "8N1", "8N2", "8O1")
_HOUR = 3600.0
# BusConfig fields given in seconds.
_SECONDS = (
    "poll_interval",
    "min_gap",
    "slave_allowance",
    "adapter_allowance",
    "probe_backoff_initial",
    "probe_backoff_max",
    "reopen_backoff_initial",
    "reopen_backoff_max",
)


def parse_buses(root: Table, default_pulse_ms: int) -> tuple[BusConfig, ...]:
    tables = root.tables("buses", required=True)
    if not tables:
        raise ConfigError("buses", "at least one bus is needed")
    buses = tuple(_bus(t, i, default_pulse_ms) for i, t in enumerate(tables))
    unique([b.name for b in buses], "buses", "name")
    unique([b.port for b in buses], "buses", "port")
    return buses


def _bus(t: Table, index: int, default_pulse_ms: int) -> BusConfig:
    name = t.text("name", f"bus{index}", pattern=NAME)
    port = t.text("port")
    boards = tuple(_board(b, default_pulse_ms) for b in t.tables("boards", required=True))
    line = FAMILIES[boards[0].family if boards else REFERENCE.name].serial_format
    baud = t.integer("baud", line.baud, lo=300, hi=4_000_000)
    # Absent keys keep BusConfig's defaults.
    options: dict[str, Any] = {k: t.number(k, lo=0.0, hi=_HOUR) for k in _SECONDS if t.has(k)}
    for key in ("read_retries", "failures_until_offline"):
        if t.has(key):
            options[key] = t.integer(key, lo=0, hi=1000)
    frame = t.text("format", line.name, choices=FORMATS)
    t.finish()
    try:
        return BusConfig(name, port, boards, SerialFormat.parse(baud, frame), **options)
    except BusConfigError as problem:
        # The adapter names a relay board's wiring `channels[n]`; this file calls it `inputs[n]`.
        field = re.sub(r"^(boards\[\d+\])\.channels\[", r"\1.inputs[", problem.field)
        raise ConfigError(t.where(field), problem.problem) from None


def _board(t: Table, default_pulse_ms: int) -> BoardConfig:
    family = FAMILIES[t.text("family", REFERENCE.name, choices=tuple(FAMILIES))]
    board = BOARD_PARSERS.get(family.name, _lock_board)(t, family, default_pulse_ms)
    t.finish()
    return board


def _lock_board(t: Table, family: Family, default_pulse_ms: int) -> BoardConfig:
    unit, polarity, poll_interval, response_timeout = _common(t, family)
    pulse = family.pulse_ms
    if pulse is None:
        raise ConfigError(t.where("family"), f"{family.name} boards need a parser of their own")
    return ReferenceBoardConfig(
        unit,
        t.integer("channels", lo=family.channels.low, hi=family.channels.high),
        t.integer("pulse_ms", max(default_pulse_ms, pulse.low), lo=pulse.low, hi=pulse.high),
        polarity,
        poll_interval,
        response_timeout,
        family=family.name,
    )


def _common(t: Table, family: Family) -> tuple[int, SensorPolarity, float | None, float | None]:
    unit = t.integer("unit", lo=family.units.low, hi=family.units.high)
    polarity = _polarity(t.table("polarity"))
    poll_interval = t.optional_positive("poll_interval", hi=_HOUR)
    response_timeout = t.optional_positive("response_timeout", hi=_HOUR)
    return unit, polarity, poll_interval, response_timeout


def _relay_board(t: Table, family: Family, default_pulse_ms: int) -> BoardConfig:
    """Self-wired (`channels`: relay n, input n of the same module reads the door)
    or wired by `inputs` (door / item inputs on any module of the bus)."""
    unit, polarity, poll_interval, response_timeout = _common(t, family)
    pulse = family.pulse_ms
    assert pulse is not None
    pulse_ms = t.integer("pulse_ms", max(default_pulse_ms, pulse.low), lo=pulse.low, hi=pulse.high)
    if t.has("inputs") and t.has("channels"):
        raise ConfigError(t.where("inputs"), "give channels (self-wired) or inputs, not both")
    if t.has("inputs"):
        wiring = tuple(_relay_channel(c, family) for c in t.tables("inputs"))
        if not wiring:
            raise ConfigError(t.where("inputs"), "a relay board drives at least one lock")
    else:
        channels = t.integer("channels", lo=family.channels.low, hi=family.channels.high)
        wiring = RelayBoardConfig.self_wired(unit, channels).channels
    return RelayBoardConfig(unit, wiring, pulse_ms, polarity, poll_interval, response_timeout)


def polarity_key(family: str, sensor: str) -> str:
    """The key under a board's `polarity` that inverts its `sensor` ("door" or
    "item"): Kerong boards call their door switch the hook switch."""
    if sensor == "door" and family in (KERONG_CU16.name, KERONG_CU48.name):
        return "hook_inverted"
    return f"{sensor}_inverted"


def _kerong_board(t: Table, family: Family, default_pulse_ms: int) -> BoardConfig:
    """A Kerong board: `unit` is its address (the family's range), `unlock_ms` the
    unlock time set on the board, `polarity.hook_inverted` for NC hook
    switches, `polarity.item_inverted` for a CU16's infrared sensors."""
    locks, unlock = family.channels, family.unlock_ms
    assert unlock is not None and family.default_unlock_ms is not None
    p = t.table("polarity")
    polarity = SensorPolarity(
        door_inverted=p.boolean(polarity_key(family.name, "door"), False),
        item_inverted=p.boolean(polarity_key(family.name, "item"), False)
        if _has_items(family)
        else False,
    )
    p.finish()
    return KerongBoardConfig(
        family.name,
        t.integer("unit", lo=family.units.low, hi=family.units.high),
        t.integer("channels", family.default_channels, lo=locks.low, hi=locks.high),
        t.integer("unlock_ms", family.default_unlock_ms, lo=unlock.low, hi=unlock.high),
        polarity,
        t.optional_positive("poll_interval", hi=_HOUR),
        t.optional_positive("response_timeout", hi=_HOUR),
    )


def _has_items(family: Family) -> bool:
    return Capability.ITEM_SENSOR in family.capabilities


BOARD_PARSERS: dict[str, Callable[[Table, Family, int], BoardConfig]] = {
    RELAY.name: _relay_board,
    KERONG_CU16.name: _kerong_board,
    KERONG_CU48.name: _kerong_board,
}


def _polarity(t: Table) -> SensorPolarity:
    polarity = SensorPolarity(
        door_inverted=t.boolean("door_inverted", False),
        item_inverted=t.boolean("item_inverted", False),
        lock_feedback_inverted=t.boolean("lock_feedback_inverted", False),
    )
    t.finish()
    return polarity


def _relay_channel(t: Table, family: Family) -> RelayChannelConfig:
    door = _input(t.table("door"), family) if t.has("door") else None
    item = _input(t.table("item"), family) if t.has("item") else None
    t.finish()
    return RelayChannelConfig(door, item)


def _input(t: Table, family: Family) -> InputRef:
    units, inputs = family.units, family.channels  # a module has as many inputs as relays
    ref = InputRef(
        t.integer("unit", lo=units.low, hi=units.high),
        t.integer("input", lo=inputs.low, hi=inputs.high),
    )
    t.finish()
    return ref
