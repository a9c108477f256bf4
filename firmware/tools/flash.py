"""Copy the bundle onto a board with mpremote, then reset it.

mpremote interrupts the running firmware with Ctrl-C (main.py then
switches the outputs off and keeps the watchdog fed, so the copy is not cut
short), removes the old /firmware tree (a stale .py would be imported
before a new .mpy), copies firmware/ and main.py and resets the board. The
settings file (/settings.bin) is left alone: a flashed board keeps its unit
address.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from .build import ENTRY, ToolMissing

_REMOVE_OLD = (
    "import os\n"
    "def rm(p):\n"
    "    for name, kind, *_ in os.ilistdir(p):\n"
    "        q = p + '/' + name\n"
    "        rm(q) if kind == 0x4000 else os.remove(q)\n"
    "    os.rmdir(p)\n"
    "try:\n"
    "    rm('/firmware')\n"
    "except OSError:\n"
    "    pass\n"
)


class NoPort(Exception):
    """The serial port given is not there."""


def mpremote_command() -> list[str]:
    if importlib.util.find_spec("mpremote") is None:
        raise ToolMissing("mpremote is not installed: pip install -e '.[dev]' (./run.sh does it)")
    return [sys.executable, "-m", "mpremote"]


def flash_command(port: str, bundle: Path) -> list[str]:
    """One mpremote run: connect, remove the old package, copy, reset."""
    return mpremote_command() + [
        "connect", port,
        "exec", _REMOVE_OLD, "+",
        "fs", "cp", "-r", str(bundle / "firmware"), ":", "+",
        "fs", "cp", str(bundle / ENTRY), ":" + ENTRY, "+",
        "reset",
    ]  # fmt: skip


def check_port(port: str) -> None:
    if not Path(port).exists():
        raise NoPort(f"no serial port at {port} (a Pico's USB console is usually /dev/ttyACM0)")


def flash(port: str, bundle: Path) -> int:
    """mpremote's exit code."""
    check_port(port)
    return subprocess.run(flash_command(port, bundle), check=False).returncode
