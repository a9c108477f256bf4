"""Tables for people: the status of every compartment, and line counters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.table import Table


def _wire(raw: object) -> str:
    if not isinstance(raw, Mapping):
        return "-"
    return f"{raw['unit']}/{raw['channel']}"


def _faults(row: Mapping[str, object]) -> str:
    faults = []
    if row["lock"] == "jammed":
        faults.append("jammed")
    for sensor in ("door_sensor", "item_sensor"):
        if row[sensor] != "normal":
            faults.append(f"{sensor.split('_')[0]} sensor {row[sensor]}")
    if not row["board_online"]:
        faults.append(f"board {row['lock_board']} offline")
    return ", ".join(faults)


def _wiring(row: Mapping[str, object]) -> str:
    lock = f"{row['bus']} u{_wire(row['lock_wire'])}"
    if not row["door_wire"] and not row["item_wire"]:
        return lock
    parts = [lock]
    parts += [f"{k} u{_wire(row[f'{k}_wire'])}" for k in ("door", "item") if row[f"{k}_wire"]]
    return ", ".join(parts)


def status_table(status: Mapping[str, object]) -> Table:
    table = Table(title="compartments")
    for column in ("id", "size", "wiring (unit/channel)", "lock", "door", "items", "faults"):
        table.add_column(column)
    rows = status.get("compartments")
    assert isinstance(rows, Sequence)
    for row in rows:
        assert isinstance(row, Mapping)
        lock = str(row["lock"])
        door = str(row["door"])
        table.add_row(
            str(row["id"]),
            str(row["size"]),
            _wiring(row),
            f"[yellow]{lock}[/]" if lock == "released" else lock,
            f"[bold red]{door}[/]" if door == "open" else door,
            str(row["items"]),
            f"[red]{_faults(row)}[/]",
        )
    return table


def buses_table(status: Mapping[str, object]) -> Table:
    table = Table(title="buses")
    for column in ("bus", "serial", "device", "tcp", "format", "boards"):
        table.add_column(column)
    buses = status.get("buses")
    assert isinstance(buses, Sequence)
    for bus in buses:
        assert isinstance(bus, Mapping)
        boards = bus["boards"]
        assert isinstance(boards, Sequence)
        units = ", ".join(
            f"{b['unit']} {b['family']}{'' if b['online'] else ' (offline)'}" for b in boards
        )
        table.add_row(
            str(bus["name"]),
            str(bus["serial"]),
            str(bus["device"] or "unplugged"),
            str(bus["tcp"]),
            f"{bus['baud']} {bus['format']}",
            units,
        )
    return table


def print_status(status: Mapping[str, object], console: Console) -> None:
    console.print(buses_table(status))
    console.print(status_table(status))


def print_stats(stats: Mapping[str, object], console: Console) -> None:
    buses = stats.get("buses")
    assert isinstance(buses, Mapping)
    table = Table(title="line counters")
    table.add_column("bus")
    table.add_column("counter")
    table.add_column("value", justify="right")
    for name, data in buses.items():
        assert isinstance(data, Mapping)
        counters = data["counters"]
        assert isinstance(counters, Mapping)
        for key, value in counters.items():
            table.add_row(str(name), str(key), str(value))
    console.print(table)
