"""The domain is pure: it imports nothing that does I/O, reads a clock or draws
randomness (DESIGN.md section 2). Checked on the source, so a lazy import
inside a function is caught too."""

from __future__ import annotations

import ast
from pathlib import Path

import locker_host.domain

DOMAIN = Path(locker_host.domain.__file__).parent
FORBIDDEN = {
    "asyncio",
    "sqlite3",
    "time",
    "datetime",
    "socket",
    "serial",
    "os",
    "random",
    "secrets",
    "logging",
    "subprocess",
    "threading",
    "pathlib",
    "io",
    "uuid",
}
ALLOWED_TOP = {
    "__future__",
    "collections",
    "dataclasses",
    "enum",
    "functools",
    "hashlib",
    "hmac",
    "math",
    "re",
    "types",
    "typing",
    "unicodedata",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_domain_imports_only_pure_standard_modules() -> None:
    sources = sorted(DOMAIN.glob("*.py"))
    assert len(sources) > 10
    for source in sources:
        for name in _imports(source):
            top = name.split(".")[0]
            assert top not in FORBIDDEN, f"{source.name} imports {name}"
            assert top in ALLOWED_TOP, f"{source.name} imports {name}: not known to be pure"


def test_the_domain_keeps_its_files_small() -> None:
    for source in DOMAIN.glob("*.py"):
        lines = source.read_text(encoding="utf-8").count("\n")
        assert lines <= 420, f"{source.name} has {lines} lines: split it"


def test_every_public_name_is_exported_once() -> None:
    exported = locker_host.domain.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert hasattr(locker_host.domain, name), name
