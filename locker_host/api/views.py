"""Plain JSON bodies from the app's values and the daemon's figures (shapes: models.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from locker_host.app import AuditLine, DropoffService, JsonDict
from locker_host.domain import Alarm

from .context import ApiContext, BusFigures, ReaderFigures


def iso(wall_s: float | None) -> str | None:
    return None if wall_s is None else datetime.fromtimestamp(wall_s, UTC).isoformat()


def service_offer(service: DropoffService) -> JsonDict:
    """A drop-off service as the kiosk screen shows it (its title in both languages)."""
    return {
        "name": service.name,
        "title_zh": service.labels.get("zh", service.name),
        "title_en": service.labels.get("en", service.name),
        "department": service.department,
        "size": service.size.value,
    }


def bus_dict(bus: BusFigures) -> JsonDict:
    return {
        "bus": bus.bus,
        "port": {
            "path": bus.port_path,
            "state": bus.port_state,
            "losses": bus.port_losses,
            "last_error": bus.port_last_error,
        },
        "transactions": bus.transactions,
        "replies": bus.replies,
        "faults": dict(bus.faults),
        "unlocks": dict(bus.unlocks),
        "cycle_time_last_s": bus.cycle_time_last_s,
        "cycle_time_max_s": bus.cycle_time_max_s,
        "boards": [
            {
                "board": b.board,
                "health": b.health,
                "identity": b.identity,
                "transactions": b.transactions,
                "replies": b.replies,
                "faults": dict(b.faults),
                "round_trip_mean_s": b.round_trip_mean_s,
                "round_trip_max_s": b.round_trip_max_s,
            }
            for b in bus.boards
        ],
    }


def reader_dict(reader: ReaderFigures) -> JsonDict:
    return {
        "name": reader.name,
        "available": reader.available,
        "readings": reader.readings,
        "faults": reader.faults,
        "last_fault": reader.last_fault,
        "faults_by_code": dict(reader.faults_by_code),
        "line": dict(reader.line),
        "details": dict(reader.details),
    }


def health(context: ApiContext) -> JsonDict:
    buses = list(context.buses())
    readers = list(context.readers())
    mqtt = context.mqtt()
    commissioned = context.commissioned()
    degraded = (
        any(b.port_state != "open" for b in buses)
        or any(board.health != "online" for b in buses for board in b.boards)
        or any(not r.available for r in readers)
        or (mqtt is not None and not mqtt.get("connected"))
        or not commissioned
    )
    return {
        "ok": True,
        "status": "degraded" if degraded else "ok",
        "buses": [bus_dict(b) for b in buses],
        "readers": [reader_dict(r) for r in readers],
        "mqtt": None if mqtt is None else dict(mqtt),
        "commissioned": commissioned,
    }


def alarm_dict(alarm: Alarm, *, active: bool = True) -> JsonDict:
    ack = alarm.acknowledged
    return {
        "alarm_id": alarm.alarm_id,
        "kind": alarm.kind.value,
        "compartment": alarm.compartment,
        "board": alarm.board,
        "active": active,
        "acknowledged": None if ack is None else {"by": ack.by, "at": iso(ack.at_wall_s)},
    }


def items(compartments: Sequence[Mapping[str, Any]]) -> list[JsonDict]:
    lines = []
    for compartment in compartments:
        for item in compartment["items"]:
            deadline = item["deadline_wall_s"]
            lines.append(
                {
                    **item,
                    "compartment": compartment["compartment"],
                    "deadline": iso(deadline),
                    "overdue": item["stage"] == "overdue",  # as the domain decided
                }
            )
    return lines


def audit_dict(line: AuditLine) -> JsonDict:
    return {
        "seq": line.seq,
        "recorded_at": line.recorded_at.isoformat(),
        "actor": line.actor,
        "action": line.action,
        "outcome": line.outcome,
        "compartment": line.compartment,
        "details": dict(line.details),
        "hash": line.hash,
    }


AUDIT_CSV_COLUMNS = ("seq", "recorded_at", "actor", "action", "outcome", "compartment", "details")


def audit_csv(lines: Iterable[AuditLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow((*AUDIT_CSV_COLUMNS, "hash"))
    for line in lines:
        details = json.dumps(dict(line.details), ensure_ascii=False, sort_keys=True)
        writer.writerow(
            (
                line.seq,
                line.recorded_at.isoformat(),
                _cell(line.actor),
                _cell(line.action),
                line.outcome,
                _cell(line.compartment or ""),
                _cell(details),
                line.hash,
            )
        )
    return out.getvalue()


def _cell(text: str) -> str:
    """A spreadsheet would run a cell that starts like a formula (a reason typed by staff)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
