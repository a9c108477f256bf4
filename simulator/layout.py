"""The simulated locker's layout: buses, boards, compartments and their wiring.

A layout comes from a TOML file (`load_layout`, see examples/sim-layout.toml)
or from a few flags (`simple_layout`). Every problem is a `LayoutError`
that names the key, such as `buses[0].boards[2].unit: 300 is outside
1..247`, so a tester can fix the file without reading this code.

A board's `family` is a name in `protocol.families`: its entry bounds the
board's `unit` and `channels`, gives their default, and gives the bus its
line format unless the bus names one (Modbus 19200 8E1, Kerong 19200 8N1).

Wiring. A reference board channel carries the lock, the door switch and
the item sensor of one compartment; so does a Kerong CU16 channel (the hook
switch is the door's), and a CU48 channel without the item sensor. Kerong
boards (`kerong_cu16`, `kerong_cu48`: their address, `unlock_ms`,
`firmware`) speak their own frames, so a bus is all Kerong or all Modbus.
A relay module's relay drives one lock; the door switch and the item
sensor are digital inputs on the same or another module of the same bus.
Without a `compartments` table, one
compartment per channel is generated, in columns whose rows have the sizes
of `column_sizes` (default "SSSMMMLL": 8 rows, A01..A08, B01..); on relay
modules, relay n drives the lock and input n reads the door.

The simulated ID-card reader is on unless `[reader] enabled = false`;
`[reader] link` names its device path (default `<run dir>/ttyIDCARD0`),
`[reader] model` how long it takes (fast, typical, slow, alternating).
The simulated staff-card reader is on unless `[staff_reader] enabled =
false`; `kind` is `keyboard` (default: key strokes, `<run dir>/inputSTAFF0`)
or `serial` (the number and CR LF, `<run dir>/ttySTAFF0`), `link` its path.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from protocol.families import FAMILIES, REFERENCE, Capability, Family, Framing, unit_span
from protocol.kerong import UNLOCK_MS_DEFAULT
from protocol.reference_board import BAUD_RATES as REFERENCE_BAUD_RATES
from protocol.timing import SerialFormat

from .engines import ENGINES, EngineName
from .physics import Size, UserBehaviour
from .reader import READER_MODELS
from .staff_reader import StaffReaderKind
from .toml_fields import (
    LayoutError,
    as_table,
    keys,
    list_of,
    number,
    string,
    unique,
    whole,
)

__all__ = [
    "DEFAULT_COLUMN",
    "BoardSpec",
    "BusSpec",
    "CompartmentSpec",
    "Layout",
    "LayoutError",
    "ReaderSpec",
    "Wire",
    "load_layout",
    "parse_layout",
    "simple_layout",
]

DEFAULT_COLUMN = "SSSMMMLL"  # sizes of the rows of one column, from the top
_COLUMN = re.compile(r"^[SML]{1,99}$")
_ID = re.compile(r"^[A-Z]{1,2}[0-9]{2}$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True, slots=True)
class BoardSpec:
    family: str  # a name in protocol.families.FAMILIES
    unit: int
    channels: int
    unlock_ms: int = UNLOCK_MS_DEFAULT  # Kerong boards: the board's own unlock time
    firmware: str = ""  # Kerong boards: one of the family's `firmware` ("": its first)

    @property
    def dialect(self) -> Framing:
        return FAMILIES[self.family].framing


@dataclass(frozen=True, slots=True)
class BusSpec:
    name: str
    format: SerialFormat
    turnaround: float  # seconds
    boards: tuple[BoardSpec, ...]
    link: Path | None = None  # the device path (a symlink); None: the default
    model: str = "fast"  # how long it takes per step (reader.READER_MODELS)
    tcp_port: int = 0  # 0: an ephemeral port

    def board(self, unit: int) -> BoardSpec | None:
        return next((b for b in self.boards if b.unit == unit), None)

    @property
    def dialect(self) -> Framing:
        return self.boards[0].dialect


@dataclass(frozen=True, slots=True)
class Wire:
    unit: int
    channel: int


@dataclass(frozen=True, slots=True)
class CompartmentSpec:
    id: str
    size: Size
    bus: str
    lock: Wire
    door: Wire | None  # relay modules only: the door switch input
    item: Wire | None  # relay modules only: the item sensor input


@dataclass(frozen=True, slots=True)
class ReaderSpec:
    """The simulated ID-card reader (reader.py)."""

    link: Path | None = None  # the device path (a symlink); None: the default
    model: str = "fast"  # how long it takes per step (reader.READER_MODELS)


@dataclass(frozen=True, slots=True)
class StaffReaderSpec:
    """The simulated staff-card reader (staff_reader.py)."""

    kind: StaffReaderKind = StaffReaderKind.KEYBOARD
    link: Path | None = None  # the device path (a symlink); None: the default


@dataclass(frozen=True, slots=True)
class Layout:
    buses: tuple[BusSpec, ...]
    compartments: tuple[CompartmentSpec, ...]
    user: UserBehaviour = field(default_factory=UserBehaviour)
    reader: ReaderSpec | None = field(default_factory=ReaderSpec)  # None: no card reader
    engine: EngineName = "cpython"  # where the reference boards' firmware runs (engines.py)
    staff_reader: StaffReaderSpec | None = field(default_factory=StaffReaderSpec)  # None: none

    def bus(self, name: str) -> BusSpec | None:
        return next((b for b in self.buses if b.name == name), None)


# -- entry points ----------------------------------------------------------------


def load_layout(path: Path) -> Layout:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(str(path), f"cannot read the layout: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(str(path), f"not valid TOML: {exc}") from exc
    return parse_layout(data)


def simple_layout(
    *,
    buses: int = 1,
    boards: int = 2,
    channels: int | None = None,
    baud: int | None = None,
    frame: str | None = None,
    family: str = REFERENCE.name,
    turnaround: float = 0.001,
    column_sizes: str = DEFAULT_COLUMN,
    user: UserBehaviour | None = None,
) -> Layout:
    """The layout the command-line flags describe: `buses` identical buses,
    each with units 1..boards. Channels, baud and frame default to the
    family's (protocol.families). Errors name the flag (`--channels: 60 is
    outside 1..48`)."""
    if not 1 <= buses <= 16:
        raise LayoutError("--buses", f"{buses} is outside 1..16")
    spec = _family(family, "--family")
    if not 1 <= boards <= spec.units.high:
        raise LayoutError("--boards", f"{boards} is outside 1..{spec.units.high}")
    line = spec.serial_format
    bus = {
        "baud": line.baud if baud is None else baud,
        "format": line.name if frame is None else frame,
        "turnaround_ms": turnaround * 1000,
        "boards": [
            {
                "family": family,
                "unit": unit,
                "channels": spec.default_channels if channels is None else channels,
            }
            for unit in range(1, boards + 1)
        ],
    }
    data = {
        "column_sizes": column_sizes,
        "buses": [{"name": f"bus{i}", **bus} for i in range(buses)],
    }
    try:
        return parse_layout(data, user=user)
    except LayoutError as exc:
        flag = "--" + exc.key.rsplit(".", 1)[-1].replace("_", "-")
        raise LayoutError(_FLAG_NAMES.get(flag, flag), exc.problem) from None


_FLAG_NAMES = {"--unit": "--boards", "--column-sizes": "--sizes"}


def parse_layout(data: Mapping[str, object], user: UserBehaviour | None = None) -> Layout:
    keys(
        data,
        "",
        {"buses", "compartments", "column_sizes", "user", "reader", "staff_reader", "engine"},
    )
    engine = string(data, "engine", "", default="cpython")
    if engine not in ENGINES:
        raise LayoutError("engine", f"{engine!r} is not one of {', '.join(ENGINES)}")
    buses_raw = list_of(data, "buses", "", required=True)
    if not buses_raw:
        raise LayoutError("buses", "at least one bus is needed")
    buses = tuple(_bus(raw, f"buses[{i}]", i) for i, raw in enumerate(buses_raw))
    unique([b.name for b in buses], "buses", "name")
    links = [str(b.link) if b.link else f"<default {i}>" for i, b in enumerate(buses)]
    unique(links, "buses", "link")
    if "compartments" in data:
        raw_comps = list_of(data, "compartments", "", required=True)
        comps = tuple(
            _compartment(raw, f"compartments[{i}]", buses) for i, raw in enumerate(raw_comps)
        )
        _check_wiring(comps)
    else:
        column = string(data, "column_sizes", "", default=DEFAULT_COLUMN)
        if not _COLUMN.match(column):
            raise LayoutError("column_sizes", f"{column!r} must be 1..99 letters S, M or L")
        comps = _generated(buses, column)
    unique([c.id for c in comps], "compartments", "id")
    if user is None:
        user = _user(data.get("user", {}), "user")
    reader = _reader(data.get("reader", {}), "reader")
    staff_reader = _staff_reader(data.get("staff_reader", {}), "staff_reader")
    return Layout(buses, comps, user, reader, ENGINES[ENGINES.index(engine)], staff_reader)


# -- sections ----------------------------------------------------------------------


def _bus(raw: object, key: str, index: int) -> BusSpec:
    table = as_table(raw, key)
    keys(table, key, {"name", "baud", "format", "turnaround_ms", "boards", "link", "tcp_port"})
    name = string(table, "name", key, default=f"bus{index}")
    if not _NAME.match(name):
        raise LayoutError(f"{key}.name", f"{name!r} must be 1-32 letters, digits, _ or -")
    turnaround_ms = number(table, "turnaround_ms", key, default=1.0, lo=0.0, hi=1000.0) or 0.0
    link_raw = table.get("link")
    if link_raw is not None and (not isinstance(link_raw, str) or not link_raw):
        raise LayoutError(f"{key}.link", "must be a non-empty path string")
    tcp_port = whole(table, "tcp_port", key, default=0, lo=0, hi=65535)
    boards_raw = list_of(table, "boards", key, required=True)
    if not boards_raw:
        raise LayoutError(f"{key}.boards", "a bus needs at least one board")
    boards = tuple(_board(b, f"{key}.boards[{i}]") for i, b in enumerate(boards_raw))
    for i, board in enumerate(boards):
        if board.dialect != boards[0].dialect:
            raise LayoutError(
                f"{key}.boards[{i}].family",
                f"{board.family} boards cannot share a bus with {boards[0].family} boards",
            )
    seen: dict[int, int] = {}
    for i, board in enumerate(boards):
        if board.unit in seen:
            raise LayoutError(
                f"{key}.boards[{i}].unit",
                f"{board.unit} is already used by {key}.boards[{seen[board.unit]}]",
            )
        seen[board.unit] = i
    line = FAMILIES[boards[0].family].serial_format  # unless the bus says otherwise
    baud = whole(table, "baud", key, default=line.baud, lo=300, hi=4_000_000)
    frame = string(table, "format", key, default=line.name)
    if frame not in ("8E1", "8N1", "8N2", "8O1"):
        raise LayoutError(f"{key}.format", f"{frame!r} is not one of 8E1, 8N1, 8N2, 8O1")
    if any(b.family == REFERENCE.name for b in boards) and baud not in REFERENCE_BAUD_RATES:
        raise LayoutError(
            f"{key}.baud",
            f"{baud} is not a reference board's speed "
            f"({', '.join(map(str, REFERENCE_BAUD_RATES))})",
        )
    return BusSpec(
        name=name,
        format=SerialFormat.parse(baud, frame),
        turnaround=turnaround_ms / 1000,
        boards=boards,
        link=Path(link_raw) if isinstance(link_raw, str) else None,
        tcp_port=tcp_port,
    )


def _board(raw: object, key: str) -> BoardSpec:
    table = as_table(raw, key)
    keys(table, key, {"family", "unit", "channels", "unlock_ms", "firmware"})
    family = _family(string(table, "family", key, default=REFERENCE.name), f"{key}.family")
    unit = whole(table, "unit", key, lo=family.units.low, hi=family.units.high)
    bounds = family.channels
    channels = whole(
        table, "channels", key, default=family.default_channels, lo=bounds.low, hi=bounds.high
    )
    if family.unlock_ms is None or family.default_unlock_ms is None:
        for name in ("unlock_ms", "firmware"):
            if name in table:
                raise LayoutError(f"{key}.{name}", f"only Kerong boards have it, not {family.name}")
        return BoardSpec(family.name, unit, channels)
    unlock = family.unlock_ms
    unlock_ms = whole(
        table, "unlock_ms", key, default=family.default_unlock_ms, lo=unlock.low, hi=unlock.high
    )
    if not family.firmware and "firmware" not in table:
        return BoardSpec(family.name, unit, channels, unlock_ms)
    firmware = string(table, "firmware", key, default=(*family.firmware, "")[0])
    if firmware not in family.firmware:
        raise LayoutError(f"{key}.firmware", f"{firmware!r} is not a firmware of {family.name}")
    return BoardSpec(family.name, unit, channels, unlock_ms, firmware)


def _family(name: str, key: str) -> Family:
    if name not in FAMILIES:
        raise LayoutError(key, f"{name!r} is not one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


def _compartment(raw: object, key: str, buses: tuple[BusSpec, ...]) -> CompartmentSpec:
    table = as_table(raw, key)
    keys(table, key, {"id", "size", "bus", "lock", "door", "item"})
    cid = string(table, "id", key)
    if not _ID.match(cid):
        raise LayoutError(f"{key}.id", f"{cid!r} is not a compartment id such as A07")
    size = string(table, "size", key, default="M")
    if size not in ("S", "M", "L"):
        raise LayoutError(f"{key}.size", f"{size!r} is not S, M or L")
    bus_name = string(table, "bus", key, default=buses[0].name)
    bus = next((b for b in buses if b.name == bus_name), None)
    if bus is None:
        raise LayoutError(f"{key}.bus", f"no bus is named {bus_name!r}")
    lock = _wire(table.get("lock"), f"{key}.lock", bus, *FAMILIES)
    lock_family = _board_family(bus, lock)
    inputs = [f.name for f in FAMILIES.values() if Capability.SENSOR_INPUTS in f.capabilities]
    door = item = None
    for name in ("door", "item"):
        if name not in table:
            continue
        if lock_family not in inputs:
            raise LayoutError(
                f"{key}.{name}",
                f"a {lock_family} board reads it on the lock's channel; remove the key",
            )
        wire = _wire(table[name], f"{key}.{name}", bus, *inputs)
        door, item = (wire, item) if name == "door" else (door, wire)
    return CompartmentSpec(cid, Size(size), bus.name, lock, door, item)


def _wire(raw: object, key: str, bus: BusSpec, *families: str) -> Wire:
    if raw is None:
        raise LayoutError(key, "missing: give {unit = ..., channel = ...}")
    table = as_table(raw, key)
    keys(table, key, {"unit", "channel"})
    span = unit_span()
    unit = whole(table, "unit", key, lo=span.low, hi=span.high)
    board = bus.board(unit)
    if board is None:
        raise LayoutError(f"{key}.unit", f"no board has unit {unit} on bus {bus.name!r}")
    if board.family not in families:
        raise LayoutError(f"{key}.unit", f"unit {unit} is a {board.family} board")
    channel = whole(table, "channel", key, lo=1, hi=board.channels)
    return Wire(unit, channel)


def _board_family(bus: BusSpec, wire: Wire) -> str:
    board = bus.board(wire.unit)
    assert board is not None  # _wire checked it
    return board.family


def _check_wiring(comps: tuple[CompartmentSpec, ...]) -> None:
    outputs: dict[tuple[str, int, int], str] = {}
    inputs: dict[tuple[str, int, int], str] = {}
    for i, comp in enumerate(comps):
        used = [("lock", comp.lock, outputs)]
        used += [(n, w, inputs) for n, w in (("door", comp.door), ("item", comp.item)) if w]
        for name, wire, table in used:
            where = (comp.bus, wire.unit, wire.channel)
            if where in table:
                raise LayoutError(
                    f"compartments[{i}].{name}",
                    f"unit {wire.unit} channel {wire.channel} is already wired to {table[where]}",
                )
            table[where] = comp.id


def _generated(buses: tuple[BusSpec, ...], column: str) -> tuple[CompartmentSpec, ...]:
    comps: list[CompartmentSpec] = []
    for bus in buses:
        for board in bus.boards:
            for channel in range(1, board.channels + 1):
                k = len(comps)
                row = k % len(column) + 1
                cid = f"{_column(k // len(column))}{row:02d}"
                size = Size(column[row - 1])
                wire = Wire(board.unit, channel)
                inputs = Capability.SENSOR_INPUTS in FAMILIES[board.family].capabilities
                door = wire if inputs else None
                comps.append(CompartmentSpec(cid, size, bus.name, wire, door, None))
    return tuple(comps)


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _user(raw: object, key: str) -> UserBehaviour:
    table = as_table(raw, key)
    keys(table, key, {"auto_open_after", "auto_close_after"})
    values = {
        name: number(table, name, key, default=None, lo=0.0, hi=3600.0)
        for name in ("auto_open_after", "auto_close_after")
    }
    return UserBehaviour(values["auto_open_after"], values["auto_close_after"])


def _staff_reader(raw: object, key: str) -> StaffReaderSpec | None:
    table = as_table(raw, key)
    keys(table, key, {"enabled", "kind", "link"})
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise LayoutError(f"{key}.enabled", "must be true or false")
    kind = string(table, "kind", key, default=StaffReaderKind.KEYBOARD.value)
    if kind not in tuple(StaffReaderKind):
        raise LayoutError(f"{key}.kind", f"{kind!r} is not one of keyboard, serial")
    link = table.get("link")
    if link is not None and (not isinstance(link, str) or not link):
        raise LayoutError(f"{key}.link", "must be a non-empty path string")
    if not enabled:
        return None
    return StaffReaderSpec(StaffReaderKind(kind), Path(link) if isinstance(link, str) else None)


def _reader(raw: object, key: str) -> ReaderSpec | None:
    table = as_table(raw, key)
    keys(table, key, {"enabled", "link", "model"})
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise LayoutError(f"{key}.enabled", "must be true or false")
    link = table.get("link")
    if link is not None and (not isinstance(link, str) or not link):
        raise LayoutError(f"{key}.link", "must be a non-empty path string")
    model = table.get("model", "fast")
    if model not in READER_MODELS:
        raise LayoutError(f"{key}.model", f"one of {', '.join(READER_MODELS)}")
    if not enabled:
        return None
    return ReaderSpec(Path(link) if isinstance(link, str) else None, str(model))
