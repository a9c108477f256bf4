"""Import directions of DESIGN.md section 2, enforced on the source text.

- protocol/ imports nothing of ours and no I/O module;
- locker_host/domain/ is pure: no I/O, no clock, no randomness;
- simulator/ imports only protocol/ of ours;
- adapters do not import each other.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"protocol", "locker_host", "simulator", "mqtt_bridge"}
IO_MODULES = {
    "asyncio",
    "socket",
    "select",
    "selectors",
    "serial",
    "sqlite3",
    "sqlite_utils",
    "subprocess",
    "threading",
    "time",
    "os",
    "io",
    "pathlib",
    "shutil",
    "tempfile",
    "signal",
    "termios",
    "pty",
    "fastapi",
    "paho",
    "pymodbus",
    "random",
    "logging",
    "urllib",
    "http",
    "requests",
    "uvicorn",
}
ADAPTERS = [
    "locker_host.bus",
    "locker_host.store",
    "locker_host.readers",
    "locker_host.api",
    "locker_host.printer",
    "mqtt_bridge",
]


def imports_of(package: str) -> list[tuple[Path, str]]:
    found = []
    base = ROOT / package.replace(".", "/")
    for path in sorted(base.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        module_parts = path.relative_to(ROOT).with_suffix("").parts
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = module_parts[: len(module_parts) - node.level]
                    name = ".".join([*anchor, *(node.module.split(".") if node.module else [])])
                else:
                    name = node.module or ""
                found.append((path, name))
    return found


def top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


@pytest.mark.parametrize("package", ["protocol", "locker_host/domain"])
def test_pure_packages_do_no_io(package) -> None:
    own = package.replace("/", ".")
    bad = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, name in imports_of(own)
        if top(name) in IO_MODULES or (top(name) in OURS and not name.startswith(own))
    ]
    assert not bad, "pure package imports I/O or outer code:\n" + "\n".join(bad)


def test_simulator_imports_only_protocol() -> None:
    bad = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, name in imports_of("simulator")
        if top(name) in OURS - {"protocol", "simulator"}
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapters_do_not_import_each_other(adapter) -> None:
    if not (ROOT / adapter.replace(".", "/")).exists():
        pytest.skip(f"{adapter} does not exist yet")
    others = [a for a in ADAPTERS if a != adapter]
    bad = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, name in imports_of(adapter)
        if any(name == o or name.startswith(o + ".") for o in others)
    ]
    assert not bad, "\n".join(bad)


def test_the_checker_sees_imports() -> None:
    # Guard against a checker that silently finds nothing.
    names = {name for _, name in imports_of("protocol")}
    assert "protocol.errors" in names
    assert "dataclasses" in names
