"""lockerctl: the command-line side of the central system, for developers and testers."""

from .cli import main

__all__ = ["main"]
