"""Shared bench plumbing: start locker-sim as a real process, machine facts, tables."""

from __future__ import annotations

import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunningSim:
    serial_path: str
    control: str
    process: subprocess.Popen[str]


@contextmanager
def locker_sim(*args: str) -> Iterator[RunningSim]:
    """`locker-sim serve ARGS` in its own process; yields once it printed its addresses."""
    with tempfile.TemporaryDirectory(prefix="locker-bench-") as run_dir:
        cmd = [
            sys.executable,
            "-m",
            "simulator",
            "serve",
            "--run-dir",
            run_dir,
            "--link",
            str(Path(run_dir) / "tty"),
            *args,
        ]
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            first = process.stdout.readline().strip()
            second = process.stdout.readline().strip()
            if not first.startswith("serial: ") or not second.startswith("control: "):
                err = process.stderr.read() if process.stderr else ""
                raise RuntimeError(f"locker-sim did not start: {first!r} {second!r} {err}")
            yield RunningSim(
                first.removeprefix("serial: "), second.removeprefix("control: "), process
            )
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until(deadline: float) -> None:
    """Sleep to just before `deadline` (perf_counter), then spin: sub-ms precision."""
    remaining = deadline - time.perf_counter()
    if remaining > 0.0005:
        time.sleep(remaining - 0.0004)
    while time.perf_counter() < deadline:
        pass


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}, load average {load:.2f} at start"
    )


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def replace_block(text: str, name: str, body: str) -> str:
    """Put ``body`` between docs/benchmarks.md's ``<!-- name:begin/end -->`` markers."""
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"docs/benchmarks.md lacks the {name} markers")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)
