"""`[[buses]]` and their `[[buses.boards]]`: the bus adapter's own configuration.

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
    frame = t.text("format", "8E1", choices=FORMATS)
    # Absent keys keep BusConfig's defaults.
    options: dict[str, Any] = {k: t.number(k, lo=0.0, hi=_HOUR) for k in _SECONDS if t.has(k)}
    for key in ("read_retries", "failures_until_offline"):
        if t.has(key):
            options[key] = t.integer(key, lo=0, hi=1000)
    boards = tuple(_board(b, default_pulse_ms) for b in t.tables("boards", required=True))
    t.finish()
    try:
        return BusConfig(name, port, boards, SerialFormat.parse(baud, frame), **options)
    except BusConfigError as problem:
        # The adapter names a relay board's wiring `channels[n]`; this file calls it `inputs[n]`.
        field = re.sub(r"^(boards\[\d+\])\.channels\[", r"\1.inputs[", problem.field)
        raise ConfigError(t.where(field), problem.problem) from None


def _board(t: Table, default_pulse_ms: int) -> BoardConfig:
    family = t.text("family", "reference", choices=("reference", "relay"))
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
