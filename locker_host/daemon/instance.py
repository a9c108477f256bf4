"""One daemon per database: an exclusive lock held for the process's lifetime.

A second `lockerd run` on the same database must stop before it opens the
store: opening it feeds the domain `Restarted`, which would end the running
daemon's opens as `outcome_unknown`. The commissioning walk takes the same
lock (it needs the boards to itself, and writes to the database). The lock
is `flock` on `<database>.lock`: the kernel drops it when the process dies,
`kill -9` included, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class AlreadyRunning(Exception):
    code = "already_running"


@contextlib.contextmanager
def exclusive(database: Path, holder: str) -> Iterator[None]:
    path = database.with_name(database.name + ".lock")
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o750)  # a fresh box: first start
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(
                f"{database} is in use by another lockerd (or a commissioning walk); "
                f"stop it before {holder}"
            ) from None
        yield
    finally:
        os.close(fd)
