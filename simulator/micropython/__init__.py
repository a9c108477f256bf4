"""The reference board's firmware run by real MicroPython: the HIL twin.

`locker-sim serve --engine micropython` keeps every reference board's
firmware inside one MicroPython (the official WebAssembly build, from npm,
run by node: host.mjs). The firmware files are loaded unchanged; the
simulator talks to them through the line protocol of
firmware/hal/sim_wire.py, one request and one answer a line over a pipe.
`RemoteBoard` has the calls of firmware.hal.sim.SimBoard, so the reference
board adapter drives either engine the same way.

Where things are: node from PATH (or LOCKER_NODE); the npm package in the
repository's node_modules (`./run.sh` installs it from package.json; run
`npm ci` in the repository otherwise). A missing node or package is a
`MicroPythonUnavailable` naming what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from firmware.hal.sim import SimBoard

HOST = Path(__file__).resolve().parent / "host.mjs"
FIRMWARE = Path(__file__).resolve().parent.parent.parent / "firmware"
PACKAGE = "@micropython/micropython-webassembly-pyscript"
_START_TIMEOUT = 60.0


class MicroPythonUnavailable(RuntimeError):
    """node or the MicroPython package is not installed."""


class MicroPythonError(RuntimeError):
    """MicroPython answered a request with an error, or died."""


def node_command() -> str:
    node = os.environ.get("LOCKER_NODE") or shutil.which("node")
    if node is None:
        raise MicroPythonUnavailable(
            "node is not installed (Debian: apt-get install nodejs npm; ./run.sh does it)"
        )
    package = HOST.parent.parent.parent / "node_modules" / PACKAGE
    if not package.is_dir():
        raise MicroPythonUnavailable(
            f"{PACKAGE} is not installed: run `npm ci` in {package.parents[2]} (./run.sh does it)"
        )
    return node


class MicroPythonHost:
    """One MicroPython in a node process, serving many boards."""

    def __init__(self, firmware_dir: Path = FIRMWARE) -> None:
        self._process = subprocess.Popen(
            [node_command(), str(HOST), "serve", str(firmware_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._next_id = 0
        first = self._readline()
        if not first.startswith("ready micropython "):
            self.close()
            raise MicroPythonError(f"MicroPython did not start: {first!r}")
        self.version = first.split()[2]

    def request(self, line: str) -> str:
        with self._lock:
            stdin = self._process.stdin
            assert stdin is not None
            try:
                stdin.write(line + "\n")
                stdin.flush()
            except (BrokenPipeError, ValueError) as exc:
                raise MicroPythonError(f"MicroPython is gone: {exc}") from exc
            answer = self._readline()
        if not answer.startswith("ok"):
            raise MicroPythonError(f"{line.split(' ', 1)[0]}: {answer}")
        return answer

    def new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def _readline(self) -> str:
        stdout = self._process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise MicroPythonError(f"MicroPython exited (code {self._process.poll()})")
        return line.rstrip("\n")

    def close(self) -> None:
        if self._process.poll() is None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> MicroPythonHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RemoteBoard:
    """A SimBoard that lives inside MicroPython (same calls, see firmware/hal/sim.py)."""

    def __init__(
        self,
        host: MicroPythonHost,
        channels: int,
        serial: int,
        *,
        unit: int,
        serial_format: int,
        now: int,
    ) -> None:
        self._host = host
        self._id = host.new_id()
        self.unit = unit
        self.coils: list[int] = [0] * ((channels + 15) // 16)
        self.uart_format = serial_format
        self._wait = -1
        self._call(f"new {self._id} {channels} {serial} {unit} {serial_format} {now}")

    def deliver(self, frame: bytes, now: int) -> bytes | None:
        return self._call(f"frame {self._id} {now} {frame.hex() or '00'}")

    def set_inputs(self, door: list[int], item: list[int], feedback: list[int], now: int) -> None:
        words = " ".join(",".join(f"{w:x}" for w in field) for field in (door, item, feedback))
        self._call(f"inputs {self._id} {now} {words}")

    def advance(self, now: int) -> None:
        self._call(f"advance {self._id} {now}")

    def power_up(self, now: int) -> None:
        self._call(f"power {self._id} {now}")

    def stall(self, now: int) -> None:
        self._call(f"stall {self._id} {now}")

    def wait_us(self) -> int:
        return self._wait

    def info(self) -> dict[str, int]:
        answer = self._host.request(f"info {self._id}")
        return {k: int(v) for k, v in (pair.split("=") for pair in answer.split()[1:])}

    def _call(self, line: str) -> bytes | None:
        _, reply, unit, wait, coils, uart_format = self._host.request(line).split()
        self.unit = int(unit)
        self.uart_format = int(uart_format)
        self._wait = int(wait)
        self.coils = [int(w, 16) for w in coils.split(",")]
        return None if reply == "-" else bytes.fromhex(reply)


def run_script(source: str, firmware_dir: Path = FIRMWARE, timeout: float = 600.0) -> str:
    """Run a MicroPython script with the firmware importable; its stdout."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
        script = f.name
    try:
        done = subprocess.run(
            [node_command(), str(HOST), "run", str(firmware_dir), script],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        os.unlink(script)
    if done.returncode != 0:
        raise MicroPythonError(f"MicroPython script failed:\n{done.stderr}")
    return done.stdout


__all__ = [
    "MicroPythonError",
    "MicroPythonHost",
    "MicroPythonUnavailable",
    "RemoteBoard",
    "SimBoard",
    "run_script",
]
