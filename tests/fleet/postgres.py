"""A real PostgreSQL (Debian's, installed by ``run.sh``) in a temporary directory on a free
loopback port, for the reference central system's tests: ``initdb`` with trust
authentication for local connections, ``postgres`` as a child process, ``kill -9`` or a
fast restart on demand.

PostgreSQL refuses to run as root: when we are root the cluster directory belongs to
the ``postgres`` user and the server runs as it (``Popen(user=...)``, so that the
postmaster is our own child and ``kill`` reaps it before a restart looks at its lock
file). The directory is made outside pytest's ``tmp_path`` (which is private to root)
for the same reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.mqtt.broker import listening_port

START_TIMEOUT_S = 60.0
DATABASE = "central"


def bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


@dataclass
class Postgres:
    port: int = field(default_factory=listening_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fleet-pg-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={DATABASE}"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @staticmethod
    def _user() -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def initdb(self) -> None:
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError("postgresql is not installed (./run.sh installs it)")
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        subprocess.run(
            [
                str(binaries / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            user=self._user(),
            cwd=self.directory,
        )

    def start(self) -> None:
        binaries = bin_dir()
        assert binaries is not None
        if not self.data.exists():
            self.initdb()
        log = (self.directory / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(binaries / "postgres"),
                "-D",
                str(self.data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                str(self.directory),  # the Unix socket: beside the data, not /run
                "-c",
                "fsync=on",
                "-c",
                "max_connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # kill() reaches the backends too
            user=self._user(),
            cwd=self.directory,
        )
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        binaries = bin_dir()
        assert binaries is not None and self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited:\n{self.log()}")
            ready = subprocess.run(
                [str(binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                self._ensure_database()
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not start in {START_TIMEOUT_S} s:\n{self.log()}")

    def _ensure_database(self) -> None:
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
                return
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def kill(self) -> None:
        """``kill -9`` of the postmaster and its backends."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None
        _free_after_kill(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def _free_after_kill(port: int) -> None:
    """Orphaned backends end on their own once the postmaster is gone; wait for the port."""
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return
        time.sleep(0.1)
