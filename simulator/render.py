"""Tables for people: the status of every compartment, and line counters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text


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


def _cell(row: Mapping[str, object]) -> Text:
    door, lock, items = str(row["door"]), str(row["lock"]), row["items"]
    text = Text(f"{row['id']} {row['size']}\n", style="bold")
    style = "green" if door == "closed" else "bold yellow"
    text.append(f"{door:<6}", style=style)
    text.append(f" {items}▣" if items else "   ", style="cyan")
    if lock != "locked":
        text.append(f"\n{lock}", style="bold red" if lock == "jammed" else "yellow")
    elif faults := _faults(row):
        text.append(f"\n{faults}", style="red")
    return text


def locker_map(status: Mapping[str, object]) -> Table:
    """The front of the locker: one column per letter, rows numbered from the top."""
    rows = status.get("compartments")
    assert isinstance(rows, Sequence)
    grid: dict[str, dict[int, Mapping[str, object]]] = {}
    for row in rows:
        assert isinstance(row, Mapping)
        ident = str(row["id"])
        letter, digits = ident[:1], ident[1:]
        grid.setdefault(letter, {})[int(digits) if digits.isdigit() else 0] = row
    table = Table(title="front view", show_lines=True)
    columns = sorted(grid)
    for column in columns:
        table.add_column(column, justify="left", min_width=9)
    depth = max((max(cells) for cells in grid.values()), default=0)
    for position in range(1, depth + 1):
        table.add_row(
            *(_cell(grid[c][position]) if position in grid[c] else Text("") for c in columns)
        )
    return table


def status_view(status: Mapping[str, object]) -> Group:
    return Group(buses_table(status), locker_map(status))


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
