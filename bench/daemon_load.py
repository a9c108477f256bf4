"""CPU and memory of a process polling 8 boards at 5 Hz at 115200 bps.

    .venv/bin/python -m bench.daemon_load [--quick]

A `locker-sim serve` process serves eight 24-channel reference boards at
115200 8E1; the measured process polls them with poll_interval 0.2 s
(5 Hz per board, 40 status polls a second). Two processes are measured, one
after the other, each against its own simulator:

- `bench.poller`: a process that only owns the bus (a `BusOwner`, a no-op
  consumer): the bus owner's own cost, on Python's asyncio loop and on
  uvloop;
- `lockerd run`: the daemon, with the same bus (192 compartments), the
  simulator's SAM card reader at its default find period (0.5 s) and its
  SQLite store, not commissioned, idle otherwise; on uvloop (its default)
  and on asyncio (`[runtime] event_loop = "asyncio"`). Skipped, with the
  reason, if it does not start.

CPU is utime + stime of the process (all threads) from /proc/<pid>/stat
over the window after a warm-up, divided by the window: the fraction of one
core (target <= 0.03). Memory is VmRSS (and VmHWM, the peak) from
/proc/<pid>/status at the end of the window, beside the baseline: a Python
process that imports the bus package and sleeps (`bench.poller --idle`),
measured in the same window. The poll rate is checked on the simulator's
side (its frame counter).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .harness import RunningSim, locker_sim, machine, markdown_table
from .wire_time import control

BAUD = 115200
FRAME = "8E1"
BOARDS = 8
CHANNELS = 24
INTERVAL = 0.2
TARGET_CORE_FRACTION = 0.03
START_TIMEOUT = 30.0
WARMUP = 3.0


@dataclass(frozen=True)
class LoadResult:
    process: str
    window_s: float
    cpu_s: float
    polls_per_s: float
    rss_kib: int
    hwm_kib: int
    baseline_rss_kib: int
    baseline_cpu_s: float
    error: str = ""

    @property
    def core_fraction(self) -> float:
        return self.cpu_s / self.window_s


def _cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_kib(pid: int) -> tuple[int, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def _frames(sim: RunningSim) -> int:
    answer = control(sim, {"cmd": "stats", "limit": 1})
    buses = answer["buses"]
    assert isinstance(buses, dict)
    return int(next(iter(buses.values()))["counters"]["frames"])


def _units_polled(sim: RunningSim) -> set[int]:
    answer = control(sim, {"cmd": "stats", "limit": 200})
    buses = answer["buses"]
    assert isinstance(buses, dict)
    records = next(iter(buses.values()))["transactions"]
    return {r["unit"] for r in records if r["function"] == 4 and r["outcome"] == "reply"}


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _measure(
    name: str, sim: RunningSim, process: subprocess.Popen[str], window: float
) -> LoadResult:
    baseline = subprocess.Popen(
        [sys.executable, "-m", "bench.poller", "--idle"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        if _ready_line(baseline, START_TIMEOUT) != "ready":
            raise RuntimeError("the baseline process did not start")
        time.sleep(WARMUP)
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        frames, cpu, base_cpu = _frames(sim), _cpu_seconds(process.pid), _cpu_seconds(baseline.pid)
        started = time.monotonic()
        time.sleep(window)
        cpu = _cpu_seconds(process.pid) - cpu
        base_cpu = _cpu_seconds(baseline.pid) - base_cpu
        elapsed = time.monotonic() - started
        frames = _frames(sim) - frames
        rss, hwm = _memory_kib(process.pid)
        base_rss, _ = _memory_kib(baseline.pid)
    finally:
        _stop(baseline)
    return LoadResult(name, elapsed, cpu, frames / elapsed, rss, hwm, base_rss, base_cpu)


def _sim_args() -> list[str]:
    return [
        "--baud",
        str(BAUD),
        "--format",
        FRAME,
        "--boards",
        str(BOARDS),
        "--channels",
        str(CHANNELS),
        "--turnaround-ms",
        "1",
    ]


def _ready_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first line the process prints, or "" after `timeout` seconds."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    return process.stdout.readline().strip() if ready else ""


def measure_poller(window: float, loop: str) -> LoadResult:
    name = f"bus owner only (bench.poller, {loop})"
    with tempfile.TemporaryFile("w+") as errors, locker_sim(*_sim_args()) as sim:
        cmd = [sys.executable, "-m", "bench.poller", "--port", sim.serial_path]
        cmd += ["--baud", str(BAUD), "--format", FRAME, "--boards", str(BOARDS)]
        cmd += ["--channels", str(CHANNELS), "--interval", str(INTERVAL), "--loop", loop]
        process = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            if _ready_line(process, START_TIMEOUT) != "ready":
                _stop(process)
                errors.seek(0)
                raise RuntimeError(f"bench.poller did not start: {errors.read()[-600:]}")
            result = _measure(name, sim, process, window)
            errors.seek(0)
            complaints = errors.read()
            if complaints:  # warnings while measured: the figure is suspect, say so
                print(complaints[-1000:], file=sys.stderr)
            return result
        finally:
            _stop(process)


# -- lockerd ------------------------------------------------------------------------

_SECRETS = "".join(
    f'[{name}]\ncurrent = 1\nsecrets = {{ 1 = "{secret}" }}\n'
    for name, secret in (
        ("owner_keys", "0f" * 32),
        ("code_keys", "c0" * 32),
        ("staff_keys", "5a" * 32),
    )
)


def _lockerd_config(workdir: Path, bus_port: str, reader_port: str, loop: str) -> str:
    secrets = workdir / "secrets.toml"
    secrets.write_text(_SECRETS)
    secrets.chmod(0o600)
    flag = workdir / "clock-synchronised"
    flag.touch()
    sizes = "SSSMMMLL"
    compartments = []
    for k in range(BOARDS * CHANNELS):
        unit, channel = k // CHANNELS + 1, k % CHANNELS + 1
        cid = f"{chr(ord('A') + k // 8)}{k % 8 + 1:02d}"
        compartments.append(
            f'  {{ id = "{cid}", size = "{sizes[k % 8]}", unit = {unit}, channel = {channel} }},'
        )
    boards = "\n".join(
        f'\n[[buses.boards]]\nfamily = "reference"\nunit = {u}\nchannels = {CHANNELS}'
        for u in range(1, BOARDS + 1)
    )
    q = json.dumps
    return f"""site = "bench"
locker = "L01"
compartments = [
{chr(10).join(compartments)}
]

[paths]
database = {q(str(workdir / "locker.db"))}
secrets = {q(str(secrets))}
admin_socket = {q(str(workdir / "admin.sock"))}

[log]
level = "warning"

[runtime]
event_loop = "{loop}"

[clock]
synchronised_flag = {q(str(flag))}

[[buses]]
name = "bus0"
port = {q(bus_port)}
baud = {BAUD}
format = "{FRAME}"
poll_interval = {INTERVAL}
{boards}

[[readers]]
kind = "sam"
name = "idcard"
port = {q(reader_port)}
baud = 115200

[[departments]]
id = "market"
labels = {{ zh = "市场监督管理局", en = "Market Regulation" }}

[[services]]
name = "business_licence"
department = "market"
size = "M"
labels = {{ zh = "营业执照", en = "Business licence" }}
"""


def measure_lockerd(window: float, loop: str) -> LoadResult:
    with (
        tempfile.TemporaryDirectory(prefix="lockerd-bench-") as tmp,
        locker_sim(*_sim_args()) as sim,
    ):
        workdir = Path(tmp)
        reader = str(Path(sim.serial_path).parent / "ttyIDCARD0")
        config = workdir / "lockerd.toml"
        text = _lockerd_config(workdir, sim.serial_path, reader, loop)
        config.write_text(text, encoding="utf-8")
        log = (workdir / "lockerd.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "locker_host.daemon", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while _units_polled(sim) != set(range(1, BOARDS + 1)):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    tail = (workdir / "lockerd.log").read_text()[-600:]
                    raise RuntimeError(f"lockerd did not poll every board: {tail}")
                time.sleep(0.5)
            name = f"lockerd run (bus + SAM reader + store, {loop})"
            return _measure(name, sim, process, window)
        finally:
            _stop(process)
            log.close()


def run_all(window: float) -> list[LoadResult]:
    results = []
    for name, measure, loop in (
        ("bus owner only (bench.poller, asyncio)", measure_poller, "asyncio"),
        ("bus owner only (bench.poller, uvloop)", measure_poller, "uvloop"),
        ("lockerd run (uvloop, its default)", measure_lockerd, "uvloop"),
        ("lockerd run (asyncio)", measure_lockerd, "asyncio"),
    ):
        try:
            results.append(measure(window, loop))
        except Exception as exc:  # say why, measure the rest
            reason = " ".join(str(exc).split())[:300]
            results.append(LoadResult(name, 0.0, 0.0, 0.0, 0, 0, 0, 0.0, reason))
    return results


def summary_rows(results: Sequence[LoadResult]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    line = f"{BAUD} {FRAME}, 8 boards, 5 Hz"
    for r in results:
        if r.error:
            rows.append(
                (f"CPU, {r.process}", line, "-", "not measured", "-", "-", "<= 0.03 core", r.error)
            )
            continue
        met = "yes" if r.core_fraction <= TARGET_CORE_FRACTION else "**no**"
        rows.append(
            (
                f"CPU, {r.process}",
                line,
                f"{r.window_s:.0f} s",
                f"{r.cpu_s:.2f} s CPU ({r.polls_per_s:.1f} frames/s)",
                "one core",
                f"{r.core_fraction:.4f}",
                "<= 0.03 core",
                met,
            )
        )
        rows.append(
            (
                f"RSS, {r.process}",
                line,
                "-",
                f"{r.rss_kib / 1024:.1f} MiB (peak {r.hwm_kib / 1024:.1f})",
                f"idle Python + bus package {r.baseline_rss_kib / 1024:.1f} MiB",
                f"{r.rss_kib / r.baseline_rss_kib:.2f}",
                "report",
                "-",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.daemon_load")
    parser.add_argument("--quick", action="store_true", help="5 s windows instead of 15 s")
    args = parser.parse_args()
    print(machine(), flush=True)
    results = run_all(5.0 if args.quick else 15.0)
    header = ("measurement", "line", "n", "measured", "baseline", "ratio", "target", "met")
    print(markdown_table(header, summary_rows(results)))


if __name__ == "__main__":
    main()
