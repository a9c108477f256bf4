"""`[[buses]]` and their `[[buses.boards]]`: the bus adapter's own configuration.

Families: `reference`, `relay` (Modbus RTU, 19200 8E1 by default) and
`kerong_cu16`, `kerong_cu48` (Kerong frames, 19200 8N1 by default: the
boards' factory setting); a bus carries one kind or the other.

Every key is checked here for its type and, where the bus adapter has no
opinion, its range; `BusConfig` then checks the rest (a unit used twice, an
input module that is a lock board) and its `ConfigError` is re-raised under
the full key (`buses[0].boards[1].unit`).
"""

from __future__ import annotations

import re
from typing import Any

from locker_host.bus import (
    BoardConfig,
    BusConfig,
    InputRef,
    KerongBoardConfig,
    ReferenceBoardConfig,
    RelayBoardConfig,
    RelayChannelConfig,
    SensorPolarity,
)
from locker_host.bus import ConfigError as BusConfigError
from protocol.timing import SerialFormat

from .config_fields import ConfigError, Table, unique

NAME = r"[A-Za-z0-9_-]{1,32}"
FORMATS = ("8E1", "8N1", "8N2", "8O1")
FAMILIES = ("reference", "relay", "kerong_cu16", "kerong_cu48")
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
    baud = t.integer("baud", 19200, lo=300, hi=4_000_000)
    # Absent keys keep BusConfig's defaults.
    options: dict[str, Any] = {k: t.number(k, lo=0.0, hi=_HOUR) for k in _SECONDS if t.has(k)}
    for key in ("read_retries", "failures_until_offline"):
        if t.has(key):
            options[key] = t.integer(key, lo=0, hi=1000)
    boards = tuple(_board(b, default_pulse_ms) for b in t.tables("boards", required=True))
    kerong = any(isinstance(b, KerongBoardConfig) for b in boards)
    frame = t.text("format", "8N1" if kerong else "8E1", choices=FORMATS)
    t.finish()
    try:
        return BusConfig(name, port, boards, SerialFormat.parse(baud, frame), **options)
    except BusConfigError as problem:
        # The adapter names a relay board's wiring `channels[n]`; this file calls it `inputs[n]`.
        field = re.sub(r"^(boards\[\d+\])\.channels\[", r"\1.inputs[", problem.field)
        raise ConfigError(t.where(field), problem.problem) from None


def _board(t: Table, default_pulse_ms: int) -> BoardConfig:
    family = t.text("family", "reference", choices=FAMILIES)
    if family in ("kerong_cu16", "kerong_cu48"):
        return _kerong_board(t, family)
    unit = t.integer("unit", lo=1, hi=247)
    polarity = _polarity(t.table("polarity"))
    poll_interval = t.optional_positive("poll_interval", hi=_HOUR)
    response_timeout = t.optional_positive("response_timeout", hi=_HOUR)
    board: BoardConfig
    if family == "reference":
        board = ReferenceBoardConfig(
            unit,
            t.integer("channels", lo=1, hi=48),
            t.integer("pulse_ms", default_pulse_ms, lo=50, hi=10_000),
            polarity,
            poll_interval,
            response_timeout,
        )
    else:
        pulse_ms = t.integer("pulse_ms", max(default_pulse_ms, 100), lo=100, hi=3_276_700)
        if t.has("inputs") and t.has("channels"):
            raise ConfigError(t.where("inputs"), "give channels (self-wired) or inputs, not both")
        if t.has("inputs"):
            wiring = tuple(_relay_channel(c) for c in t.tables("inputs"))
            if not wiring:
                raise ConfigError(t.where("inputs"), "a relay board drives at least one lock")
            board = RelayBoardConfig(
                unit, wiring, pulse_ms, polarity, poll_interval, response_timeout
            )
        else:
            channels = t.integer("channels", lo=1, hi=32)
            self_wired = RelayBoardConfig.self_wired(unit, channels)
            board = RelayBoardConfig(
                unit, self_wired.channels, pulse_ms, polarity, poll_interval, response_timeout
            )
    t.finish()
    return board


def _kerong_board(t: Table, family: str) -> KerongBoardConfig:
    """A Kerong board: `unit` is its address switch (0..9), `unlock_ms` the
    unlock time set on the board, `polarity.hook_inverted` for NC hook
    switches, `polarity.item_inverted` for a CU16's infrared sensors."""
    locks = 16 if family == "kerong_cu16" else 48
    p = t.table("polarity")
    polarity = SensorPolarity(
        door_inverted=p.boolean("hook_inverted", False),
        item_inverted=p.boolean("item_inverted", False) if locks == 16 else False,
    )
    p.finish()
    board = KerongBoardConfig(
        "kerong_cu16" if family == "kerong_cu16" else "kerong_cu48",
        t.integer("unit", lo=0, hi=9),
        t.integer("channels", locks, lo=1, hi=locks),
        t.integer("unlock_ms", 500, lo=100, hi=24_000),
        polarity,
        t.optional_positive("poll_interval", hi=_HOUR),
        t.optional_positive("response_timeout", hi=_HOUR),
    )
    t.finish()
    return board


def _polarity(t: Table) -> SensorPolarity:
    polarity = SensorPolarity(
        door_inverted=t.boolean("door_inverted", False),
        item_inverted=t.boolean("item_inverted", False),
        lock_feedback_inverted=t.boolean("lock_feedback_inverted", False),
    )
    t.finish()
    return polarity


def _relay_channel(t: Table) -> RelayChannelConfig:
    door = _input(t.table("door")) if t.has("door") else None
    item = _input(t.table("item")) if t.has("item") else None
    t.finish()
    return RelayChannelConfig(door, item)


def _input(t: Table) -> InputRef:
    ref = InputRef(t.integer("unit", lo=1, hi=247), t.integer("input", lo=1, hi=32))
    t.finish()
    return ref
