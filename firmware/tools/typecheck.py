"""Type-check the board-only modules against MicroPython's own API.

firmware/hal/rp2.py and firmware/main.py import `machine`, which CPython
does not have; the main mypy run leaves them out (pyproject.toml,
[tool.mypy] exclude). This run checks them against the stubs of
micropython-rp2-stubs and micropython-stdlib-stubs (pinned in the dev
extra): it lays both out as one typeshed directory (MicroPython's standard
library, plus machine, rp2, time and the port's other modules listed in
VERSIONS as standard modules) and runs `mypy --strict` with it as the
custom typeshed. mypy reports no errors inside a typeshed, and these stubs
have a few of their own; the firmware's core is followed silently (it is
checked by the main run), so what is reported is rp2.py's and main.py's.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import PackageNotFoundError, files
from pathlib import Path

from .build import ROOT, ToolMissing

STUBS = ("micropython-stdlib-stubs", "micropython-rp2-stubs")
CHECKED = ("firmware/hal/rp2.py", "firmware/main.py")
TYPESHED = ROOT / "build" / "micropython-typeshed"


def _stub_files(dist: str) -> list[tuple[str, Path]]:
    try:
        listed = files(dist) or []
    except PackageNotFoundError:
        raise ToolMissing(
            f"{dist} is not installed: pip install -e '.[dev]' (./run.sh does it)"
        ) from None
    return [
        (f.as_posix(), Path(str(f.locate())).resolve())
        for f in listed
        if f.suffix == ".pyi" or f.name == "VERSIONS"
    ]


def typeshed(target: Path = TYPESHED) -> Path:
    stdlib = target / "stdlib"
    if target.exists():
        for path in sorted(target.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
    stdlib.mkdir(parents=True)
    modules = set()
    for dist in STUBS:
        for name, source in _stub_files(dist):
            # stdlib/ and stubs/ (mypy_extensions) are typeshed's layout already;
            # the port's modules go beside the standard library
            laid_out = name.startswith(("stdlib/", "stubs/"))
            relative = name if laid_out else "stdlib/" + name
            destination = target / relative
            if destination.exists():
                continue  # MicroPython's stdlib stub wins over a port's copy of it
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.symlink_to(source)
            if not laid_out:
                modules.add(name.split("/")[0].removesuffix(".pyi"))
    versions = stdlib / "VERSIONS"
    listed = versions.read_text(encoding="utf-8")
    versions.unlink()  # a symlink into site-packages: write our own
    known = {line.split(":")[0].strip() for line in listed.splitlines() if ":" in line}
    extra = "".join(f"{m}: 3.0-\n" for m in sorted(modules - known))
    versions.write_text(listed + "\n# MicroPython's rp2 port\n" + extra, encoding="utf-8")
    return target


def run() -> int:
    directory = typeshed()
    command = [
        sys.executable, "-m", "mypy",
        "--strict",
        "--no-warn-unused-configs",
        "--follow-imports=silent",
        "--custom-typeshed-dir", str(directory),
        "--cache-dir", str(ROOT / ".mypy_cache" / "micropython"),
    ] + list(CHECKED)  # fmt: skip
    return subprocess.run(command, cwd=ROOT, check=False).returncode
