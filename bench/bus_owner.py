"""The bus owner against a real `locker-sim` process: poll cycle, unlock
latency and what a dead board costs, each beside its wire-time model.

    .venv/bin/python -m bench.bus_owner [--quick]

For each line (4 reference boards of 24 channels, 1 ms simulated
turnaround) the owner polls as fast as the bus allows (poll_interval 0):

- poll cycle: the simulator's records, one status poll's request start to the
  next one's, against theory = (8 + 25 bytes) x bits per char / baud +
  2 x t3.5 + turnaround (protocol.timing.SerialFormat.transaction_time);
- unlock latency: `unlock()` called -> result, with polls running, against
  the model bound "the poll in flight + the unlock transaction";
- dead board: unit 4 taken offline; bus time its probes cost per second,
  with the probe back-off at 1 s (one response timeout per interval).

Measured here, never asserted in tests (docs/benchmarks.md's rule).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any

from locker_host.bus import (
    BoardId,
    BoardSnapshot,
    BusConfig,
    BusOwner,
    Health,
    ReferenceBoardConfig,
    UnlockOutcome,
)
from locker_host.bus.timing import response_timeout
from protocol import reference_board as rb
from protocol.modbus import Request, encode_request, reply_length
from protocol.timing import SerialFormat

from .harness import RunningSim, locker_sim, machine, markdown_table, median, percentile
from .wire_time import control

BOARDS = 4
CHANNELS = 24
TURNAROUND = 0.001
LINES = [(9600, "8E1"), (19200, "8E1"), (115200, "8E1")]


@dataclass(frozen=True)
class BusResult:
    line: str
    polls: int
    poll_theory_ms: float
    poll_median_ms: float
    poll_p95_ms: float
    unlocks: int
    unlock_bound_ms: float
    unlock_median_ms: float
    unlock_p95_ms: float
    dead_probes_per_s: float
    dead_cost_ms_per_s: float
    shortest_gap_ms: float
    t35_ms: float
    silence_violations: int
    timeouts_live: int


def _records(sim: RunningSim) -> list[dict[str, Any]]:
    answer = control(sim, {"cmd": "stats", "limit": 1000})
    buses = answer["buses"]
    assert isinstance(buses, dict)
    bus = next(iter(buses.values()))
    records: list[dict[str, Any]] = bus["transactions"]
    return records


def _counters(sim: RunningSim) -> dict[str, int]:
    buses = control(sim, {"cmd": "stats", "limit": 1})["buses"]
    assert isinstance(buses, dict)
    counters = next(iter(buses.values()))["counters"]
    assert isinstance(counters, dict)
    return counters


async def _measure(sim: RunningSim, fmt: SerialFormat, seconds: float, unlocks: int) -> BusResult:
    async def consume(snapshot: BoardSnapshot) -> None:
        return None

    config = BusConfig(
        "bus0",
        sim.serial_path,
        tuple(ReferenceBoardConfig(unit, CHANNELS) for unit in range(1, BOARDS + 1)),
        format=fmt,
        poll_interval=0.0,
        probe_backoff_initial=1.0,
        probe_backoff_max=1.0,
    )
    status = rb.status_request(CHANNELS)
    unlock = rb.unlock_request(1, CHANNELS, 100)
    poll_theory = fmt.transaction_time(8, reply_length(status), TURNAROUND)
    unlock_theory = fmt.transaction_time(len(encode_request(1, unlock)), 8, TURNAROUND)
    async with BusOwner(config, consume) as owner:
        while any(owner.snapshot(b).health is not Health.ONLINE for b in owner.boards):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # past the start-up acknowledgements
        start = time.monotonic()
        await asyncio.sleep(seconds)
        end = time.monotonic()
        poll_records = _records(sim)  # the simulator answers at most 1000 at a time
        latencies = []
        for n in range(unlocks):
            await asyncio.sleep(0.037)  # land at varying points of the cycle
            called = time.perf_counter()
            result = await owner.unlock(BoardId("bus0", 1 + n % BOARDS), 1 + n % CHANNELS, 100)
            latencies.append(time.perf_counter() - called)
            assert result.outcome is UnlockOutcome.ACKNOWLEDGED, result
        control(sim, {"cmd": "offline", "unit": BOARDS})
        while owner.snapshot(BoardId("bus0", BOARDS)).health is not Health.OFFLINE:
            await asyncio.sleep(0.05)
        dead_start = time.monotonic()
        await asyncio.sleep(seconds)
        dead_end = time.monotonic()
        stats = owner.statistics()
    records = _records(sim)
    # status polls only (an acknowledgement or an unlock in between would
    # make that cycle longer than one poll)
    window_records = [r for r in poll_records if start <= r["request_start"] <= end]
    cycles = [
        b["request_start"] - a["request_start"]
        for a, b in itertools.pairwise(window_records)
        if a["function"] == 4 and a["outcome"] == "reply"
    ]
    dead = [
        r for r in records if dead_start <= r["received_at"] <= dead_end and r["unit"] == BOARDS
    ]
    window = dead_end - dead_start
    return BusResult(
        line=f"{fmt.baud} {fmt.name}",
        polls=len(cycles),
        poll_theory_ms=poll_theory * 1000,
        poll_median_ms=median(cycles) * 1000,
        poll_p95_ms=percentile(cycles, 95) * 1000,
        unlocks=len(latencies),
        unlock_bound_ms=(poll_theory + unlock_theory) * 1000,
        unlock_median_ms=median(latencies) * 1000,
        unlock_p95_ms=percentile(latencies, 95) * 1000,
        dead_probes_per_s=len(dead) / window,
        dead_cost_ms_per_s=len(dead) / window * _timeout_ms(config, status),
        shortest_gap_ms=(stats.shortest_gap or 0.0) * 1000,
        t35_ms=fmt.t35 * 1000,
        silence_violations=_counters(sim)["silence_violations"],
        timeouts_live=sum(b.faults.get("timeout", 0) for b in stats.boards[: BOARDS - 1]),
    )


def _timeout_ms(config: BusConfig, request: Request) -> float:
    return 1000 * response_timeout(
        config.format,
        request,
        slave_allowance=config.slave_allowance,
        adapter_allowance=config.adapter_allowance,
    )


def run_one(baud: int, frame: str, seconds: float, unlocks: int) -> BusResult:
    fmt = SerialFormat.parse(baud, frame)
    with locker_sim(
        "--baud",
        str(baud),
        "--format",
        frame,
        "--boards",
        str(BOARDS),
        "--channels",
        str(CHANNELS),
        "--turnaround-ms",
        str(TURNAROUND * 1000),
    ) as sim:
        return asyncio.run(_measure(sim, fmt, seconds, unlocks))


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.bus_owner")
    parser.add_argument("--quick", action="store_true", help="1 s windows, 10 unlocks")
    args = parser.parse_args()
    seconds, unlocks = (1.0, 10) if args.quick else (4.0, 40)
    print(machine(), flush=True)
    rows = []
    for baud, frame in LINES:
        r = run_one(baud, frame, seconds, unlocks)
        rows.append(
            (
                r.line,
                r.polls,
                f"{r.poll_theory_ms:.2f}",
                f"{r.poll_median_ms:.2f}",
                f"{r.poll_p95_ms:.2f}",
                f"{r.poll_median_ms / r.poll_theory_ms:.3f}",
                r.unlocks,
                f"{r.unlock_bound_ms:.1f}",
                f"{r.unlock_median_ms:.1f}",
                f"{r.unlock_p95_ms:.1f}",
                f"{r.dead_probes_per_s:.2f}",
                f"{r.dead_cost_ms_per_s:.0f}",
                f"{r.shortest_gap_ms:.3f} / {r.t35_ms:.3f}",
                r.silence_violations,
                r.timeouts_live,
            )
        )
        print(f"  {r.line} done", flush=True)
    header = (
        "line",
        "polls",
        "poll theory ms",
        "poll median ms",
        "poll p95 ms",
        "ratio",
        "unlocks",
        "unlock bound ms",
        "unlock median ms",
        "unlock p95 ms",
        "dead board probes/s",
        "dead board ms/s",
        "shortest gap / t3.5 ms",
        "t3.5 violations",
        "live-board timeouts",
    )
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
