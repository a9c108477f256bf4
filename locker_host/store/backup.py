"""An online backup of the database file, taken while lockerd runs.

SQLite's backup API copies a consistent snapshot: in WAL mode the copy is a
reader, so it never blocks the daemon's writer, and the daemon's commits
during the copy are simply not in it (sqlite.org/backup.html). The copy is
written next to the destination, checked with ``PRAGMA integrity_check``
(the full check: a backup is read once and must be right), fsynced, and only
then renamed into place, so a destination path never holds half a backup.
A plain ``cp`` of a live WAL database can copy the main file and the WAL
from two different moments; never do that.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .errors import StoreCorrupt, StoreUnavailable, map_sqlite_errors


@dataclass(frozen=True)
class BackupReport:
    destination: Path
    pages: int
    size_bytes: int


def backup_database(source: Path, destination: Path) -> BackupReport:
    """Copy `source` (a live database) to `destination`, which must not exist yet."""
    if not source.is_file():
        raise StoreUnavailable(f"no database at {source}")
    if destination.exists():
        raise StoreUnavailable(f"{destination} exists; a backup never overwrites")
    partial = destination.with_name(f".{destination.name}.partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    try:
        with map_sqlite_errors():
            _copy(source, partial)
        _fsync(partial)
        os.replace(partial, destination)
        _fsync(destination.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    with map_sqlite_errors(), contextlib.closing(sqlite3.connect(destination)) as copy:
        pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
    return BackupReport(destination, pages, destination.stat().st_size)


def _copy(source: Path, partial: Path) -> None:
    # mode=ro: the backup never writes to the daemon's file (it still reads its WAL).
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    writer = sqlite3.connect(partial, isolation_level=None)
    with contextlib.closing(reader), contextlib.closing(writer):
        reader.backup(writer)  # one step: a consistent snapshot, even with commits meanwhile
        # A backup is a single file: no WAL beside it to lose when it is copied away.
        writer.execute("PRAGMA journal_mode = DELETE")
        rows = [row[0] for row in writer.execute("PRAGMA integrity_check").fetchall()]
    if rows != ["ok"]:
        raise StoreCorrupt("the copy fails PRAGMA integrity_check", tuple(map(str, rows)))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
