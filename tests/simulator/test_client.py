"""Finding the running simulator: run directory, state file, environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator.client import ControlUnavailable, call, default_run_dir, find_control


def test_run_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LOCKER_SIM_DIR", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert default_run_dir() == Path(f"/tmp/locker-sim-{os.getuid()}")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    assert default_run_dir() == tmp_path / "xdg" / "locker-sim"
    monkeypatch.setenv("LOCKER_SIM_DIR", str(tmp_path / "mine"))
    assert default_run_dir() == tmp_path / "mine"


def test_control_address_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LOCKER_SIM_CONTROL", raising=False)
    with pytest.raises(ControlUnavailable, match="no running simulator found"):
        find_control(None, tmp_path)
    (tmp_path / "control").write_text("127.0.0.1:5000\n")
    assert find_control(None, tmp_path) == "127.0.0.1:5000"
    monkeypatch.setenv("LOCKER_SIM_CONTROL", "127.0.0.1:6000")
    assert find_control(None, tmp_path) == "127.0.0.1:6000"
    assert find_control("127.0.0.1:7000", tmp_path) == "127.0.0.1:7000"


@pytest.mark.parametrize("address", ["nowhere", "127.0.0.1:", "127.0.0.1:99999"])
def test_a_bad_address_is_named(address: str) -> None:
    with pytest.raises(ControlUnavailable, match="is not HOST:PORT"):
        call(address, {"cmd": "ping"})
