"""`[[compartments]]`: the wiring map, checked against the configured boards.

Each compartment names its lock's board channel (`bus`, `unit`, `channel`)
and the sensors it really has. A reference board reads the door switch and
the item sensor on the lock's channel; a relay board reads them on the
digital inputs its `inputs` (or `channels`, self-wired) name, so a sensor
that the relay board does not wire cannot be declared; a Kerong board reads
the door on the lock's hook switch and (CU16 only) the item on its infrared
sensor, so a CU48 compartment has no item sensor to declare. Cross-checks: the
board exists on that bus, the channel exists on that board, no two
compartments share a channel, ids are unique. Errors name the key:

    compartments[3].channel: 25 is outside 1..24 for bus0 unit 1
"""

from __future__ import annotations

from locker_host.bus import BoardConfig, BusConfig, RelayBoardConfig
from locker_host.domain import (
    BoardAddress,
    BoardRef,
    BusId,
    CompartmentId,
    CompartmentSpec,
    Layout,
    PowerSupplyId,
    Sensor,
    Size,
    Wiring,
)
from protocol.families import Capability, unit_span

from .fields import ConfigError, Table

COMPARTMENT_ID = r"[A-Z]{1,2}[0-9]{2}"
SENSOR_NAMES = tuple(s.value for s in Sensor)
DEFAULT_HEIGHT_MM = 1500  # not "low": the accessible choice must be configured on purpose


def parse_layout(root: Table, buses: tuple[BusConfig, ...]) -> Layout:
    tables = root.tables("compartments", required=True)
    if not tables:
        raise ConfigError("compartments", "at least one compartment is needed")
    specs: list[CompartmentSpec] = []
    ids: dict[str, int] = {}
    wires: dict[tuple[str, int, int], int] = {}
    for i, t in enumerate(tables):
        spec = _compartment(t, buses)
        if spec.id in ids:
            raise ConfigError(t.where("id"), f"{spec.id!r} is already compartments[{ids[spec.id]}]")
        ids[spec.id] = i
        wire = (spec.wiring.board.bus, spec.wiring.board.address, spec.wiring.channel)
        if wire in wires:
            other = specs[wires[wire]].id
            raise ConfigError(
                t.where("channel"),
                f"{wire[0]} unit {wire[1]} channel {wire[2]} is already wired to {other} "
                f"(compartments[{wires[wire]}])",
            )
        wires[wire] = i
        specs.append(spec)
    return Layout(tuple(specs))


def _compartment(t: Table, buses: tuple[BusConfig, ...]) -> CompartmentSpec:
    cid = t.text("id", pattern=COMPARTMENT_ID)
    size = Size(t.text("size", choices=("S", "M", "L")))
    bus_name = t.text("bus", buses[0].name)
    bus = next((b for b in buses if b.name == bus_name), None)
    if bus is None:
        names = ", ".join(b.name for b in buses)
        raise ConfigError(t.where("bus"), f"no bus is named {bus_name!r} (buses: {names})")
    span = unit_span()  # every family's; the board found below took its own range
    unit = t.integer("unit", lo=span.low, hi=span.high)
    board = bus.board(unit)
    if board is None:
        units = ", ".join(str(b.unit) for b in bus.boards)
        raise ConfigError(t.where("unit"), f"no board has unit {unit} on {bus.name} ({units})")
    channel = t.integer("channel")
    count = board.locks
    if not 1 <= channel <= count:
        raise ConfigError(
            t.where("channel"), f"{channel} is outside 1..{count} for {bus.name} unit {unit}"
        )
    sensors = _sensors(t, board, channel)
    height_mm = t.integer("height_mm", DEFAULT_HEIGHT_MM, lo=0, hi=3000)
    power_supply = t.text("power_supply", "main", pattern=r"[A-Za-z0-9_-]{1,32}")
    t.finish()
    wiring = Wiring(
        BoardRef(BusId(bus.name), BoardAddress(unit)), channel, PowerSupplyId(power_supply)
    )
    return CompartmentSpec(CompartmentId(cid), size, wiring, sensors, height_mm)


def _sensors(t: Table, board: BoardConfig, channel: int) -> frozenset[Sensor]:
    wired = _wired_sensors(board, channel)
    if not t.has("sensors"):
        return wired - {Sensor.LOCK_FEEDBACK}  # the flows do not use lock feedback yet
    declared: set[Sensor] = set()
    for name in t.strings("sensors"):
        if name not in SENSOR_NAMES:
            raise ConfigError(
                t.where("sensors"), f"{name!r} is not one of {', '.join(SENSOR_NAMES)}"
            )
        sensor = Sensor(name)
        if sensor not in wired:
            raise ConfigError(
                t.where("sensors"),
                f"{name} is declared but {_family(board)} unit {board.unit} channel {channel} "
                "does not wire one",
            )
        declared.add(sensor)
    return frozenset(declared)


_SENSORS = {
    Capability.DOOR_SWITCH: Sensor.DOOR_SWITCH,
    Capability.ITEM_SENSOR: Sensor.ITEM_SENSOR,
    Capability.LOCK_FEEDBACK: Sensor.LOCK_FEEDBACK,
}


def _wired_sensors(board: BoardConfig, channel: int) -> frozenset[Sensor]:
    return frozenset(_SENSORS[c] for c in board.sensors(channel))


def _family(board: BoardConfig) -> str:
    # A relay board's sensors are wired by hand: "relay board unit 3 channel 1".
    return f"{board.family} board" if isinstance(board, RelayBoardConfig) else board.family
