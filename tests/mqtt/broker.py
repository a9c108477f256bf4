"""A real Mosquitto for one test (or one benchmark): a generated config, a free loopback
port, killed in teardown. Persistence, passwords, ACLs and TLS are config lines.

Mosquitto 2 started as root drops privileges to user ``mosquitto`` and then
cannot write a root-owned persistence directory (shared notes 4.2), hence
``user root`` when we are root.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening_port() -> int:
    """A free loopback port below the kernel's ephemeral range, for a server that is
    restarted on the same port. ``bind(0)`` picks from that range, where a thousand
    lockers' own connections take source ports: a node restarted after a kill found
    its port used by one of them (``dist_port_already_used``)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        port = random.randrange(10_000, low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between 10000 and {low}")


def persistence_lines(directory: Path) -> list[str]:
    """Saved after every change, so that ``kill -9`` loses nothing the broker PUBACKed."""
    return [
        "persistence true",
        f"persistence_location {directory}/",
        "autosave_interval 1",
        "autosave_on_changes true",
    ]


@dataclass
class Mosquitto:
    directory: Path
    lines: list[str] = field(default_factory=lambda: ["allow_anonymous true"])
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    # The MQTT version the test's clients speak on it, locker and central alike
    # (tests/mqtt runs in both: the ``protocol`` fixture).
    protocol: str = "5"

    @property
    def v5(self) -> bool:
        return self.protocol == "5"

    @property
    def config_path(self) -> Path:
        return self.directory / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        return self.directory / "mosquitto.log"

    def start(self) -> None:
        if not Path(MOSQUITTO).exists():
            raise RuntimeError("mosquitto is not installed (./run.sh installs it)")
        self.directory.mkdir(parents=True, exist_ok=True)
        config = [f"listener {self.port} 127.0.0.1", *self.lines]
        if os.geteuid() == 0:
            config.append("user root")
        self.config_path.write_text("\n".join(config) + "\n")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config_path)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.starts += 1
        self._wait_listening()

    def _wait_listening(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"mosquitto did not listen within {START_TIMEOUT_S} s:\n{self.log()}")

    def kill(self) -> None:
        """``kill -9``: no goodbye, no final save."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
