"""Import directions of DESIGN.md section 2, enforced on the source text.

- protocol/ imports nothing of ours and no I/O module;
- locker_host/domain/ is pure: no I/O, no clock, no randomness;
- simulator/ imports only protocol/ of ours;
- adapters do not import each other;
- the reference central system (central/) imports nothing of the lockers' packages;
- the HTTP API imports nothing of the daemon (the composition root builds its
  context; the kiosk endpoints call the app's Presentations directly);
- the card readers import of the app only its input values (app/inputs.py);
- `lockerd run` never loads the simulator or the demo (they are test and
  show machinery: `lockerd demo` imports them only when asked for);
- a board family's facts are spelled only in protocol/ (the registry,
  protocol/families.py, and the codecs): elsewhere they are read from it.
"""

import ast
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from protocol.families import FAMILIES
from protocol.modbus import MAX_UNIT

ROOT = Path(__file__).resolve().parent.parent
OURS = {"protocol", "locker_host", "simulator", "mqtt_bridge", "demo", "central"}
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


def test_the_central_system_imports_nothing_of_the_lockers() -> None:
    """central/ is the other side of the contract: it knows the lockers only from it."""
    names = {name for _, name in imports_of("central")}
    bad = sorted(n for n in names if top(n) in OURS - {"central"})
    assert not bad, "\n".join(bad)
    assert "central.store" in names  # guard: the checker sees the package's imports


def test_the_api_imports_nothing_of_the_daemon() -> None:
    names = {name for _, name in imports_of("locker_host.api")}
    bad = sorted(
        n for n in names if n == "locker_host.daemon" or n.startswith("locker_host.daemon.")
    )
    assert not bad, "\n".join(bad)
    assert "locker_host.app" in names  # guard: the checker sees the API's imports


def test_the_readers_import_of_the_app_only_its_input_values() -> None:
    app = [
        (path, name)
        for path, name in imports_of("locker_host.readers")
        if name == "locker_host.app" or name.startswith("locker_host.app.")
    ]
    bad = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, name in app
        if name != "locker_host.app.inputs"
    ]
    assert not bad, "\n".join(bad)
    assert app, "guard: the readers produce the app's input values"


def test_the_bridge_imports_nothing_of_ours_but_its_port() -> None:
    # The port (mqtt_bridge/port.py) is the bridge's whole contract with the app:
    # the bridge imports no module of locker_host, the app's least of all.
    # One exception: `lockerctl owner-key` computes an owner key with the locker's own
    # rule and secrets reader (the contract's one definition), not with a copy of them.
    allowed = {
        ROOT / "mqtt_bridge/ctl/owner_key.py": {
            "locker_host.app.errors",
            "locker_host.app.secrets",
            "locker_host.domain.errors",
            "locker_host.domain.identity",
        }
    }
    bad = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, name in imports_of("mqtt_bridge")
        if top(name) in OURS - {"mqtt_bridge"} and name not in allowed.get(path, set())
    ]
    assert not bad, "\n".join(bad)
    assert "mqtt_bridge.port" in {name for _, name in imports_of("mqtt_bridge")}


def test_the_checker_sees_imports() -> None:
    # Guard against a checker that silently finds nothing.
    names = {name for _, name in imports_of("protocol")}
    assert "protocol.errors" in names
    assert "dataclasses" in names


# Files that may still spell a family fact, each with the reason (none today).
FAMILY_LITERALS_ALLOWED: set[str] = set()


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            found.add(id(first.value))
    return found


def family_literals(path: Path) -> list[str]:
    """Family names, the Modbus unit limit and the families' unit ranges spelled
    as literals (docstrings aside: prose may name a family)."""
    names = set(FAMILIES)
    ranges = {str(f.units) for f in FAMILIES.values()}  # "1..247", "0..9"
    tree = ast.parse(path.read_text(), str(path))
    skip = docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in skip:
            continue
        value = node.value
        spelled = (
            isinstance(value, str) and (value in names or any(r in value for r in ranges))
        ) or (type(value) is int and value in (MAX_UNIT, MAX_UNIT + 1))
        if spelled:
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            found.append(f"{where}:{node.lineno}: {value!r}")
    return found


@pytest.mark.parametrize("package", ["locker_host", "simulator", "mqtt_bridge"])
def test_family_facts_are_read_from_the_registry(package: str) -> None:
    bad = [
        spelled
        for path in sorted((ROOT / package).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in FAMILY_LITERALS_ALLOWED
        for spelled in family_literals(path)
    ]
    assert not bad, "read these from protocol/families.py:\n" + "\n".join(bad)


def test_the_family_checker_sees_literals(tmp_path: Path) -> None:
    # Guard against a checker that silently finds nothing.
    sample = tmp_path / "sample.py"
    sample.write_text('FAMILY = "reference"\nif unit > 247:\n    raise ValueError("1..247")\n')
    assert len(family_literals(sample)) == 3


# Runs `lockerd run` in this process, then reports what it imported; and, as a
# control, what importing the demo would have added.
RUN_AND_REPORT = """
import json, sys
from locker_host.daemon.cli import main
code = main(["run", "--config", sys.argv[1]])
ran = sorted(sys.modules)
import demo
print(json.dumps({"code": code, "ran": ran, "with_demo": sorted(sys.modules)}))
"""


def test_lockerd_run_never_loads_the_simulator_or_the_demo(tmp_path: Path) -> None:
    """The import closure of `lockerd run` as it runs: the daemon started on the
    example configuration (its serial devices absent, so its bus owners retry),
    stopped by SIGTERM once it logs "running", then asked for sys.modules."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text((ROOT / "examples" / "lockerd-secrets.toml").read_text())
    secrets.chmod(0o600)
    config = tmp_path / "lockerd.toml"
    text = (ROOT / "examples" / "lockerd.toml").read_text()
    text = text.replace("/tmp/lockerd-example/", f"{tmp_path}/")
    config.write_text(text.replace("/tmp/locker-sim/", f"{tmp_path}/absent-"))
    daemon = subprocess.Popen(
        [sys.executable, "-c", RUN_AND_REPORT, str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert daemon.stderr is not None
    log = []
    for line in daemon.stderr:  # ends at EOF if the daemon dies; pytest-timeout bounds it
        log.append(line)
        if '"message": "running"' in line:
            daemon.send_signal(signal.SIGTERM)
            break
    out, err = daemon.communicate(timeout=30)
    assert out, "".join(log) + err
    report = json.loads(out)
    assert report["code"] == 0, "".join(log) + err
    loaded = set(report["ran"])
    assert {"locker_host.daemon.runtime", "locker_host.bus.transport"} <= loaded
    test_machinery = {"simulator", "demo"}
    bad = sorted(m for m in loaded if top(m) in test_machinery)
    assert not bad, "lockerd run loaded: " + ", ".join(bad)
    # Guard against a check that cannot fail: the demo does bring the simulator.
    added = set(report["with_demo"]) - loaded
    assert {"demo", "simulator", "simulator.client"} <= added
