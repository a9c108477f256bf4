"""How lockerctl shows things to a person: one line per event, tables for state and lockers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

_OWNER_SHOWN = 8


def event_line(locker: str, event: Mapping[str, Any], *, duplicate: bool = False) -> str:
    """``hall1/L1 #1207 2026-06-01 02:13:07Z certificate.collected compartment=A01 ...``"""
    when = str(event.get("created_at", "")).replace("T", " ")
    when = when[:19] + "Z" if when.endswith("Z") else when
    fields = " ".join(
        f"{key}={_short(value)}" for key, value in dict(event.get("payload", {})).items()
    )
    mark = " (again)" if duplicate else ""
    return f"{locker} #{event.get('seq')}{mark} {when} {event.get('type')} {fields}".rstrip()


def _short(value: Any) -> str:
    match value:
        case {"key": str(key), "key_version": version}:
            return f"{key[:_OWNER_SHOWN]}…v{version}"
        case None:
            return "-"
        case bool():
            return "true" if value else "false"
        case list() | tuple():
            return ",".join(_short(v) for v in value) or "[]"
        case _:
            return str(value)


def state_tables(state: Mapping[str, Any], status: Mapping[str, Any] | None) -> list[Table]:
    online = "?" if status is None else str(status.get("state"))
    title = (
        f"{state['site']}/{state['locker']}  {online}  boot {str(state['boot_id'])[:8]}  "
        f"clock {'trusted' if state['clock_trusted'] else 'NOT trusted'}  "
        f"published {state['published_at']}"
    )
    compartments = Table(title=title)
    for column in ("compartment", "size", "state", "door", "item", "items", "faults"):
        compartments.add_column(column)
    for c in state["compartments"]:
        items = ", ".join(
            f"{i['kind']} {i['item']} ({i['stage']}, {i['department']})" for i in c["items"]
        )
        compartments.add_row(
            c["compartment"],
            c["size"],
            c["state"],
            c["door"],
            c["item"],
            items or "-",
            ", ".join(c["faults"]) or "-",
        )
    boards = Table(title="boards")
    boards.add_column("board")
    boards.add_column("status")
    for board, board_status in sorted(dict(state["boards"]).items()):
        boards.add_row(board, board_status)
    return [compartments, boards]


def lockers_table(statuses: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title=f"{len(statuses)} locker(s) seen")
    for column in ("site", "locker", "status", "software", "boot", "at", "alarms"):
        table.add_column(column)
    for s in sorted(statuses, key=lambda s: (str(s.get("site")), str(s.get("locker")))):
        state = str(s.get("state"))
        if state == "offline":
            state = f"offline ({s.get('reason')})"
        alarms = ", ".join(dict(s.get("outbox") or {}).get("alarms", [])) or "-"
        table.add_row(
            str(s.get("site")),
            str(s.get("locker")),
            state,
            str(s.get("software")),
            str(s.get("boot_id", ""))[:8],
            str(s.get("at", "-")),
            alarms,
        )
    return table


def show(tables: Sequence[Table]) -> None:
    console = Console(width=140)
    for table in tables:
        console.print(table)
