"""`lockerd run` as a real subprocess, its configuration, and how the tests talk to it.

The tests reach the daemon the way an operator does: its admin socket
(`admin.call`, or the `lockerd admin` command line), its JSON log on
stderr, and its SQLite file. Every wait is bounded and names what it
waited for.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from locker_host.daemon.admin import call
from locker_host.domain import Keyring, owner_refs, validate_id_number
from locker_host.readers import staff_card_digests

from .rig import SIM_CHANNELS, wait_for
from .toml_text import dumps

LOCKERD = [sys.executable, "-m", "locker_host.daemon"]
START_TIMEOUT = 20.0

OWNER_SECRET = "0f" * 16 + "a1" * 16
CODE_SECRET = "c0de" * 16
STAFF_SECRET = "5a" * 32
OWNER_KEYS = Keyring({1: bytes.fromhex(OWNER_SECRET)}, 1)
STAFF_KEYS = Keyring({1: bytes.fromhex(STAFF_SECRET)}, 1)

# Staff cards the staff-card reader types (10 digits: the default staff pattern).
MARKET_CLERK = "0012345678"
TAX_CLERK = "0023456789"
TECHNICIAN = "0087654321"
STAFF = (
    (MARKET_CLERK, "M-001", "market", "clerk"),
    (TAX_CLERK, "T-001", "tax", "clerk"),
    (TECHNICIAN, "X-001", "market", "technician"),
)


def owner_key(id_number: str) -> str:
    return owner_refs(OWNER_KEYS, validate_id_number(id_number))[0].key


def write_secrets(path: Path) -> Path:
    path.write_text(
        "[owner_keys]\ncurrent = 1\n"
        f'secrets = {{ 1 = "{OWNER_SECRET}" }}\n'
        "[code_keys]\ncurrent = 1\n"
        f'secrets = {{ 1 = "{CODE_SECRET}" }}\n'
        "[staff_keys]\ncurrent = 1\n"
        f'secrets = {{ 1 = "{STAFF_SECRET}" }}\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def sim_compartments(boards: int = 2) -> list[dict[str, Any]]:
    sizes = "SSSMMMLL"
    found = []
    for k in range(boards * SIM_CHANNELS):
        unit, channel = k // SIM_CHANNELS + 1, k % SIM_CHANNELS + 1
        cid = f"{chr(ord('A') + k // 8)}{k % 8 + 1:02d}"
        found.append({"id": cid, "size": sizes[k % 8], "unit": unit, "channel": channel})
    return found


def base_config(
    workdir: Path,
    *,
    bus_port: str,
    reader_port: str | None,
    staff_reader: str | None,
    scanner_port: str,
    compartments: list[dict[str, Any]],
    boards: list[dict[str, Any]],
) -> dict[str, Any]:
    """Fast timers for the simulator at 115200 bps; tests override what they exercise."""
    flag = workdir / "clock-synchronised"
    flag.touch()
    readers: list[dict[str, Any]] = []
    if reader_port is not None:
        readers.append({"kind": "sam", "name": "idcard", "port": reader_port, "poll_interval": 0.1})
    if staff_reader is not None:  # a keyboard wedge; the simulator's is a pty: no grab
        readers.append({"kind": "hid", "name": "staff", "path": staff_reader, "grab": False})
    readers.append({"kind": "line", "name": "scanner", "port": scanner_port, "baud": 9600})
    return {
        "site": "e2e",
        "locker": "L01",
        "compartments": compartments,
        "paths": {
            "database": str(workdir / "locker.db"),
            "secrets": str(write_secrets(workdir / "secrets.toml")),
            "admin_socket": str(workdir / "admin.sock"),
        },
        "log": {"level": "info"},
        "clock": {"synchronised_flag": str(flag), "wall_recheck_s": 1.0},
        "policy": {"pulse_ms": 100, "pulse_gap_ms": 50},
        "timers": {
            "open_confirm_timeout_s": 1.5,
            "door_ajar_timeout_s": 60.0,
            "reminder_offsets_s": [1.0],
        },
        "housekeeping": {"checkpoint_interval_s": 5.0},
        "kiosk": {"dropoff_arm_timeout_s": 30.0},
        "buses": [
            {
                "name": "bus0",
                "port": bus_port,
                "baud": 115200,
                "format": "8N1",
                "poll_interval": 0.05,
                "probe_backoff_initial": 0.2,
                "probe_backoff_max": 0.5,
                "reopen_backoff_initial": 0.1,
                "reopen_backoff_max": 0.5,
                "boards": boards,
            }
        ],
        "readers": readers,
        "departments": [
            {"id": "market", "labels": {"zh": "市场监督管理局", "en": "Market Regulation"}},
            {"id": "tax", "labels": {"zh": "税务局", "en": "Taxation"}},
        ],
        "services": [
            {
                "name": "business_licence",
                "department": "market",
                "size": "M",
                "labels": {"zh": "营业执照", "en": "Business licence"},
            }
        ],
        "staff": [
            {
                "card_digest": staff_card_digests(STAFF_KEYS, card)[0].digest,
                "key_version": 1,
                "staff_id": staff_id,
                "department": department,
                "role": role,
            }
            for card, staff_id, department, role in STAFF
        ],
    }


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def write_config(path: Path, config: Mapping[str, Any]) -> Path:
    path.write_text(dumps(config), encoding="utf-8")
    return path


def run_cli(
    *args: str, timeout: float = 120.0, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOCKERD, *args], capture_output=True, text=True, timeout=timeout, input=stdin, check=False
    )


@dataclass
class Lockerd:
    config_path: Path
    log_path: Path
    socket: Path
    database: Path
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0
    _log_files: list[Path] = field(default_factory=list)

    def start(self) -> None:
        assert self.process is None, "lockerd is already running"
        self.runs += 1
        log = self.log_path.with_name(f"{self.log_path.stem}.{self.runs}.log")
        self._log_files.append(log)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*LOCKERD, "run", "--config", str(self.config_path)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(
            self._ready, timeout=START_TIMEOUT, what=f"lockerd to answer ping\n{self.log_tail()}"
        )

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"lockerd exited with {self.process.returncode}:\n{self.log_tail()}"
            )
        try:
            return bool(call(self.socket, "ping", {}, timeout=2.0).get("ok"))
        except (ConnectionError, FileNotFoundError, OSError):
            return False

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=15)
        finally:
            self.process = None
        return code

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    # -- talking to it ---------------------------------------------------------------

    def admin(self, name: str, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return call(self.socket, name, dict(payload or {}), timeout=10.0)

    def admin_cli(self, *args: str) -> tuple[int, dict[str, Any]]:
        done = run_cli("admin", "--config", str(self.config_path), *args, timeout=30)
        return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        reply = self.admin("events", {"limit": 1000})
        assert reply["ok"], reply
        return [e for e in reply["events"] if kind is None or e["type"] == kind]

    def wait_event(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for event in self.events(kind):
                if all(event["payload"].get(k) == v for k, v in match.items()):
                    return event
            return None

        event: dict[str, Any] = wait_for(found, timeout=timeout, what=f"event {kind} {match}")
        return event

    def compartment(self, cid: str) -> dict[str, Any]:
        state = self.admin("state")["state"]
        return next(c for c in state["compartments"] if c["compartment"] == cid)

    def wait_compartment(self, cid: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            view = self.compartment(cid)
            return view if all(view.get(k) == v for k, v in match.items()) else None

        view: dict[str, Any] = wait_for(found, timeout=timeout, what=f"{cid} with {match}")
        return view

    def wait_boards_online(self, timeout: float = 10.0) -> None:
        """Every board answered its probe (a Kerong CU48 of the 0x60 variant costs
        one unanswered V2.1 probe, about a second, before it is online)."""

        def online() -> bool:
            reply = self.admin("health")
            buses = reply.get("buses") or reply.get("result", {}).get("buses", [])
            boards = [b for bus in buses for b in bus["boards"]]
            return bool(boards) and all(b["health"] == "online" for b in boards)

        wait_for(online, timeout=timeout, what="every board online")

    def log_text(self) -> str:
        return "".join(
            p.read_text(encoding="utf-8", errors="replace") for p in self._log_files if p.exists()
        )

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def files(self) -> list[Path]:
        return [*self._log_files, *self.database.parent.glob(self.database.name + "*")]
