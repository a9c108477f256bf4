"""simulator/ imports only protocol/ and firmware/ from the project, plus stdlib,
pyserial and rich."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SIMULATOR = Path(__file__).parents[2] / "simulator"
ALLOWED = {"protocol", "firmware", "simulator", "serial", "rich"} | set(sys.stdlib_module_names)


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_simulator_imports_only_protocol_firmware_stdlib_pyserial_and_rich() -> None:
    files = sorted(SIMULATOR.rglob("*.py"))
    assert len(files) > 10
    bad = {str(f.relative_to(SIMULATOR)): sorted(imported(f) - ALLOWED) for f in files}
    assert {k: v for k, v in bad.items() if v} == {}


def test_the_pure_models_do_no_io() -> None:
    pure = [
        "physics.py",
        "line.py",
        "faults.py",
        "world.py",
        "boards/reference.py",
        "boards/relay.py",
    ]
    io = {
        "os",
        "socket",
        "select",
        "threading",
        "time",
        "asyncio",
        "subprocess",
        "serial",
        "termios",
    }
    for name in pure:
        assert imported(SIMULATOR / name) & io == set(), name
