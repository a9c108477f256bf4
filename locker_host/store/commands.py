"""Command de-duplication: command_id -> the reply already given.

A central command is recorded with its reply in the same transaction as the
state, audit and events it caused, before anything is acted on. A redelivery
(QoS 1, or the central side retrying) finds the row and gets the same reply
again; it is never executed twice.

``keep_until`` must be at or after the command's own ``expires_at``: a replay
old enough to have been forgotten is then refused as stale by the expiry
check, so forgetting never re-opens the door to a second execution, whatever
the wall clock does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from .codec import (
    CommandId,
    JsonObject,
    JsonValue,
    canonical_json,
    format_time,
    load_json_object,
    parse_time,
)


@dataclass(frozen=True)
class CommandReply:
    command_id: CommandId
    reply: JsonObject
    keep_until: datetime


@dataclass(frozen=True)
class StoredCommandReply:
    command_id: CommandId
    received_at: datetime
    keep_until: datetime
    reply: dict[str, JsonValue]


def record(db: sqlite_utils.Database, command: CommandReply, now: datetime) -> None:
    """The caller holds the write transaction. A second record of one id is a constraint error."""
    db.table("commands").insert(
        {
            "command_id": command.command_id,
            "received_at": format_time(now),
            "keep_until": format_time(command.keep_until),
            "reply": canonical_json(command.reply),
        }
    )


def lookup(db: sqlite_utils.Database, command_id: str) -> StoredCommandReply | None:
    rows = list(
        db.query(
            "SELECT command_id, received_at, keep_until, reply FROM commands WHERE command_id = ?",
            [command_id],
        )
    )
    if not rows:
        return None
    row = rows[0]
    return StoredCommandReply(
        command_id=CommandId(row["command_id"]),
        received_at=parse_time(row["received_at"]),
        keep_until=parse_time(row["keep_until"]),
        reply=load_json_object(row["reply"]),
    )


def forget_expired(db: sqlite_utils.Database, now: datetime) -> int:
    return db.execute("DELETE FROM commands WHERE keep_until < ?", [format_time(now)]).rowcount
