"""Run the benchmarks and print (or, with --write, record) their tables.

./run.sh bench                     # print
./run.sh bench --write             # also rewrite the tables in docs/benchmarks.md
./run.sh bench --quick             # fewer transactions, rounds and swipes, for a smoke run
./run.sh bench --only bus,daemon   # a subset: wire, bus, daemon, mqtt, firmware, fleet
./run.sh bench --bauds 115200      # the bus section at some of its baud rates only

With --write the run first waits (at most 5 minutes, checking every 15 s)
for the 1-minute load average to fall below 1.0, and records the load at
the start and at the end either way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

from . import bus_owner, daemon_load, firmware, fleet, mqtt_link
from .harness import machine, markdown_table, replace_block
from .wire_time import run_one

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
WIRE_CASES = [(9600, "8E1"), (19200, "8E1"), (115200, "8E1"), (115200, "8N1")]
SECTIONS = ("wire", "bus", "daemon", "mqtt", "firmware", "fleet")
# The fleet section starts a broker cluster and up to 1,000 lockers (about 15 minutes):
# only when asked for (--only fleet).
DEFAULT_SECTIONS = ("wire", "bus", "daemon", "mqtt", "firmware")
QUIET_LOAD = 1.0
QUIET_WAIT = 300.0
QUIET_POLL = 15.0


def wire_section(transactions: int) -> str:
    rows = []
    for baud, frame in WIRE_CASES:
        r = run_one(baud, frame, transactions)
        rows.append(
            (
                f"{baud} {frame}",
                r.transactions,
                f"{r.theory_ms:.3f}",
                f"{r.host_median_ms:.3f}",
                f"{r.host_p95_ms:.3f}",
                f"{r.ratio:.3f}",
                f"{r.release_lag_median_us:.0f}",
                f"{r.release_lag_p95_us:.0f}",
                r.failures,
                r.silence_violations,
            )
        )
        print(f"  {baud} {frame}: ratio {r.ratio:.3f}", flush=True)
    header = (
        "line",
        "transactions",
        "theory ms",
        "host median ms",
        "host p95 ms",
        "ratio",
        "sim lag median us",
        "sim lag p95 us",
        "failed",
        "t3.5 violations",
    )
    return markdown_table(header, rows)


def bus_section(sizes: bus_owner.Sizes, bauds: tuple[int, ...]) -> tuple[str, str]:
    results = []
    for baud in bauds:
        started = time.monotonic()
        r = bus_owner.run_one(baud, sizes)
        results.append(r)
        print(
            f"  {baud}: cycle ratio {r.cycle_ratio_median:.3f}, card p99 "
            f"{r.card.latency.p99:.1f} / {r.card.bound_ms:.1f} ms, offline ratio "
            f"{r.board_cycle_offline.median / r.board_cycle_online.median:.3f} "
            f"({time.monotonic() - started:.0f} s)",
            flush=True,
        )
    return bus_owner.tables(results)


def daemon_section(window: float) -> str:
    results = daemon_load.run_all(window)
    for r in results:
        print(f"  {r.process}: {r.core_fraction if r.window_s else float('nan'):.4f} core")
    return markdown_table(bus_owner.SUMMARY_HEADER, daemon_load.summary_rows(results))


def wait_for_quiet_machine() -> None:
    """Bounded: a shared VM may never get quiet; the load is recorded either way."""
    deadline = time.monotonic() + QUIET_WAIT
    while (load := os.getloadavg()[0]) >= QUIET_LOAD and time.monotonic() < deadline:
        print(f"load average {load:.2f} >= {QUIET_LOAD}: waiting", flush=True)
        time.sleep(QUIET_POLL)
    print(f"load average {os.getloadavg()[0]:.2f}: starting", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--write", action="store_true", help="record the results in docs/")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="50 transactions instead of 500, 30 poll rounds instead of 200, 20 swipes "
        "instead of 200, 5 s load windows instead of 15 s",
    )
    parser.add_argument(
        "--only", default=",".join(DEFAULT_SECTIONS), help=f"comma-separated subset of {SECTIONS}"
    )
    parser.add_argument(
        "--bauds",
        default=",".join(str(b) for b in bus_owner.BAUDS),
        help="comma-separated baud rates of the bus section (not with --write)",
    )
    args = parser.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    if not only <= set(SECTIONS):
        parser.error(f"--only takes {', '.join(SECTIONS)}")
    try:
        bauds = tuple(int(b) for b in args.bauds.split(",") if b.strip())
    except ValueError:
        parser.error(f"--bauds takes baud rates such as 9600,115200, not {args.bauds!r}")
    if not bauds:
        parser.error("--bauds needs at least one baud rate")
    if args.write and "bus" in only and bauds != bus_owner.BAUDS:
        parser.error("--write records every baud rate of the bus section: drop --bauds")
    if args.write:
        wait_for_quiet_machine()
    started = time.monotonic()
    facts = f"{dt.date.today().isoformat()}: {machine()}"
    print(facts + "\n")
    blocks: dict[str, str] = {}
    if "wire" in only:
        print("wire time: simulator transactions against theory", flush=True)
        table = wire_section(50 if args.quick else 500)
        print(table)
        blocks["wire-time"] = table
    if "bus" in only:
        print("bus owner: 8 boards x 24 channels through the simulator", flush=True)
        summary, detail = bus_section(bus_owner.QUICK if args.quick else bus_owner.FULL, bauds)
        print(summary)
        print(detail)
        blocks["bus-owner"] = f"{summary}\n{detail}"
    if "daemon" in only:
        print("daemon load: 8 boards at 5 Hz, 115200 bps", flush=True)
        table = daemon_section(5.0 if args.quick else 15.0)
        print(table)
        blocks["daemon-load"] = table
    if "mqtt" in only:
        print("mqtt link: the bridge over a loopback Mosquitto against bare paho", flush=True)
        table = mqtt_link.run(quick=args.quick)
        print(table)
        blocks["mqtt"] = table
    if "firmware" in only:
        print("firmware core: heap and time under MicroPython, beside CPython", flush=True)
        table = firmware.run()
        print(table)
        blocks["firmware"] = table
    if "fleet" in only:
        print("fleet: 10, 100, 1,000 lockers on a RabbitMQ cluster beside Mosquitto", flush=True)
        table = fleet.run(quick=args.quick)
        print(table)
        blocks["fleet"] = table
    end_load = os.getloadavg()[0]
    elapsed = time.monotonic() - started
    print(f"load average {end_load:.2f} at the end; {elapsed:.0f} s")
    if args.write:
        quick = " (--quick)" if args.quick else ""
        text = DOC.read_text()
        for name, body in blocks.items():
            run = f"Run {facts}, {end_load:.2f} at the end{quick}\n"
            text = replace_block(text, name, f"{run}\n{body}")
        DOC.write_text(text)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
