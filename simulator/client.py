"""Talking to a running simulator: where it is, and one request at a time.

`serve` writes its control address into `<run dir>/control`; the other
subcommands read it unless told otherwise (`--control`, or the environment
variable LOCKER_SIM_CONTROL). The run directory is `--run-dir`, else
LOCKER_SIM_DIR, else $XDG_RUNTIME_DIR/locker-sim, else /tmp/locker-sim-<uid>.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

CONTROL_FILE = "control"


class ControlUnavailable(Exception):
    code = "no_simulator"


def default_run_dir() -> Path:
    if explicit := os.environ.get("LOCKER_SIM_DIR"):
        return Path(explicit)
    if runtime := os.environ.get("XDG_RUNTIME_DIR"):
        return Path(runtime) / "locker-sim"
    return Path(f"/tmp/locker-sim-{os.getuid()}")


def find_control(explicit: str | None, run_dir: Path) -> str:
    if explicit:
        return explicit
    if from_env := os.environ.get("LOCKER_SIM_CONTROL"):
        return from_env
    state = run_dir / CONTROL_FILE
    try:
        return state.read_text(encoding="utf-8").strip()
    except OSError:
        raise ControlUnavailable(
            f"no running simulator found ({state} does not exist); "
            "start `locker-sim serve`, or pass --control HOST:PORT"
        ) from None


def parse_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ControlUnavailable(f"control address {address!r} is not HOST:PORT")
    return host or "127.0.0.1", int(port)


def call(address: str, request: dict[str, object], timeout: float = 10.0) -> dict[str, object]:
    host, port = parse_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(json.dumps(request).encode() + b"\n")
            with sock.makefile("rb") as stream:
                line = stream.readline()
    except OSError as exc:
        raise ControlUnavailable(f"cannot reach the simulator at {address}: {exc}") from None
    if not line:
        raise ControlUnavailable(f"the simulator at {address} closed the connection")
    try:
        reply = json.loads(line)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        raise ControlUnavailable(f"the simulator at {address} answered {line!r}")
    return reply
