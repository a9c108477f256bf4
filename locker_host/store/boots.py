"""One row per process start. The boot id tags every audit row and event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from .codec import BootId, format_time, new_boot_id, parse_time
from .database import write_transaction
from .migrations import schema_version


@dataclass(frozen=True)
class Boot:
    boot_no: int
    boot_id: BootId
    started_at: datetime


def record_boot(db: sqlite_utils.Database, now: datetime) -> Boot:
    boot_id = new_boot_id()
    with write_transaction(db):
        table = db.table("boots")
        table.insert(
            {
                "boot_id": boot_id,
                "started_at": format_time(now),
                "schema_version": schema_version(db),
            }
        )
        boot_no = table.last_rowid
    assert boot_no is not None
    return Boot(boot_no=boot_no, boot_id=boot_id, started_at=parse_time(format_time(now)))


def known_boot(db: sqlite_utils.Database, boot_id: str) -> bool:
    """Whether ``boot_id`` is one of this database's process starts."""
    found = db.execute("SELECT 1 FROM boots WHERE boot_id = ? LIMIT 1", [boot_id]).fetchone()
    return found is not None


def boots(db: sqlite_utils.Database) -> list[Boot]:
    return [
        Boot(
            boot_no=row["boot_no"],
            boot_id=BootId(row["boot_id"]),
            started_at=parse_time(row["started_at"]),
        )
        for row in db.query("SELECT boot_no, boot_id, started_at FROM boots ORDER BY boot_no")
    ]
