"""Every payload the bridge publishes, as plain dicts (schemas in docs/asyncapi/schemas).

All payloads are UTF-8 JSON objects. Times are RFC 3339 in UTC with a ``Z``;
every message names its ``site`` and ``locker`` so that a consumer subscribed
with wildcards never has to parse the topic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .port import JsonDict, OutboxStats, PendingEvent
from .topics import Topics


def encode(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def rfc3339(moment: datetime | float) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def refusal(
    code: str, message: str, *, field: str | None = None, details: JsonDict | None = None
) -> JsonDict:
    """The bridge's own refusal of a command (the envelope's, a signature's), as the app's."""
    error: JsonDict = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    if details is not None:
        error["details"] = details
    return {"ok": False, "error": error}


def _locker(topics: Topics) -> JsonDict:
    return {"site": topics.site, "locker": topics.locker}


def status_online(
    topics: Topics, *, boot_id: str, software: str, at: float, outbox: JsonDict
) -> JsonDict:
    return {
        **_locker(topics),
        "state": "online",
        "boot_id": boot_id,
        "software": software,
        "at": rfc3339(at),
        "outbox": outbox,
    }


def status_offline(
    topics: Topics, *, boot_id: str, software: str, reason: str, at: float | None = None
) -> JsonDict:
    """``reason``: ``connection_lost`` (the Will, sent by the broker) or ``shutdown``."""
    message = {
        **_locker(topics),
        "state": "offline",
        "boot_id": boot_id,
        "software": software,
        "reason": reason,
    }
    if at is not None:
        message["at"] = rfc3339(at)
    return message


def outbox_summary(stats: OutboxStats, alarms: list[str]) -> JsonDict:
    """The part of ``status`` that changes rarely: what goes on it is republished."""
    return {"dropped_total": stats.dropped_total, "alarms": alarms}


def state(snapshot: Mapping[str, Any], *, at: float) -> JsonDict:
    return {**snapshot, "published_at": rfc3339(at)}


def board_status(topics: Topics, board: str, status: str, *, boot_id: str, at: float) -> JsonDict:
    return {
        **_locker(topics),
        "board": board,
        "status": status,
        "boot_id": boot_id,
        "at": rfc3339(at),
    }


def event(topics: Topics, row: PendingEvent) -> JsonDict:
    return {
        **_locker(topics),
        "boot_id": row.boot_id,
        "seq": row.seq,
        "event_id": row.event_id,
        "type": row.type,
        "created_at": rfc3339(row.created_at),
        "payload": dict(row.payload),
    }


def reply(
    topics: Topics, command: str, command_id: str | None, body: JsonDict, *, at: float
) -> JsonDict:
    return {
        **_locker(topics),
        "command": command,
        "command_id": command_id,
        "replied_at": rfc3339(at),
        "reply": body,
    }
