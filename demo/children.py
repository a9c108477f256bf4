"""`lockerd demo`: the child processes (simulator, broker, daemon) and bounded waits on them.

Each child runs in its own session, so a Ctrl-C at the terminal reaches the
demo alone and the demo stops the children in order (the daemon before the
boards it talks to); each also gets SIGTERM from the kernel if the demo dies
without cleaning up (PR_SET_PDEATHSIG), so none is ever left behind. Output
goes to a log file in the run directory, shown when a child fails.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_S = 15.0


class DemoError(Exception):
    """The demo cannot go on: a child failed to start, died, or a step timed out."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    def __init__(self, name: str, argv: Sequence[str], log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads run yet
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def check(self) -> None:
        """Raise if the child has exited."""
        if self.process.poll() is not None:
            raise DemoError(
                f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            )

    def log_text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it has not gone within STOP_TIMEOUT_S; its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def wait_for(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    children: Sequence[Child] = (),
    interval: float = 0.1,
) -> T:
    """Call `check` until it returns something other than None (or False)."""
    deadline = time.monotonic() + timeout
    while True:
        for child in children:
            child.check()
        with contextlib.suppress(ConnectionError, OSError):
            found = check()
            if found is not None and found is not False:
                return found
        if time.monotonic() >= deadline:
            raise DemoError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
