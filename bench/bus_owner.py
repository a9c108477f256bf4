"""The bus owner against a real `locker-sim` process: 8 boards x 24 channels.

    .venv/bin/python -m bench.bus_owner [--quick] [--bauds 9600,19200,115200]

For each baud rate (8E1, 1 ms simulated turnaround) one `locker-sim serve`
process serves eight 24-channel reference boards on a pseudo-terminal, and
one `BusOwner` in this process owns the port. Every time below comes from
the simulator's transaction records (its wire model on CLOCK_MONOTONIC), not
from the host's own clock, except where a host-side event starts the
interval (the card reading).

1. Polling flat out (poll_interval 0), at least `rounds` rounds:
   - full poll cycle: a round is unit 1's status poll to its next one, with
     exactly the eight status polls of units 1..8 in between; theory is the
     sum over those eight transactions of (request + reply bytes) x bits per
     character / baud + 2 x t3.5 + turnaround (the foundation issue's
     definition, `SerialFormat.transaction_time`); `ratio` = measured /
     theory, median over the rounds;
   - idle gap: the host's silence on the wire, the end of one reply to the
     start of the next request, against t3.5;
   - CPU per transaction: this process's CPU time (all threads, less what
     fetching the records cost) over the transactions in the window, against
     one transaction's theoretical wire time.
2. Card decoded -> unlock on the wire, while polling (card_unlock.py).
3. Unit 8 offline (`locker-sim offline`), probe back-off at its defaults:
   the other seven boards' cycle (one board's status poll to its next one)
   against the same boards' cycle with all eight online (window 1).

Measured here, never asserted in tests (docs/benchmarks.md's rule).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

from locker_host.bus import BoardId, BoardSnapshot, BusConfig, BusOwner, Health
from locker_host.bus import ReferenceBoardConfig as Board
from protocol import reference_board as rb
from protocol.modbus import reply_length
from protocol.timing import SerialFormat

from .card_unlock import CardResult, card_to_unlock
from .dist import Dist
from .harness import RunningSim, locker_sim, machine, markdown_table, median
from .sim_log import Record, SimLog
from .wire_time import control

BOARDS = 8
CHANNELS = 24
TURNAROUND = 0.001
FRAME = "8E1"
BAUDS = (9600, 19200, 115200)
OFFLINE_UNIT = BOARDS
BUS = "bus0"
FETCH_EVERY = 500  # transactions: well inside the simulator's 1000-record page


@dataclass(frozen=True)
class Sizes:
    rounds: int  # poll rounds per window (cycle and offline)
    swipes: int  # cards per baud rate


FULL = Sizes(rounds=200, swipes=200)
QUICK = Sizes(rounds=30, swipes=20)


@dataclass(frozen=True)
class BusResult:
    baud: int
    fmt: SerialFormat
    cycle: Dist  # full rounds of 8 polls
    cycle_theory_ms: float  # median of the per-round theory (all rounds are equal)
    cycle_ratio_median: float  # median of measured / theory per round
    cycle_ratio_host: float  # the same, less the simulator's late release of replies
    sim_lag: Dist  # reply_released - reply_end, window 1
    gap: Dist
    t35_ms: float
    silence_violations: int  # window 1
    violations_total: int  # since the simulator started (start-up, cards, offline included)
    cpu_per_txn_us: float
    txn_theory_ms: float  # one status poll on the wire
    window_txns: int
    board_cycle_online: Dist  # units 1..7, all 8 online
    board_cycle_offline: Dist  # units 1..7, unit 8 offline
    offline_probes: int
    offline_window_s: float
    card: CardResult
    lost_records: int
    live_faults: int  # faults of units 1..7 in windows 1 and 3


def _is_poll(r: Record) -> bool:
    return bool(r["function"] == 4 and r["outcome"] == "reply")


def _contiguous(records: Sequence[Record]) -> bool:
    return all(b["seq"] == a["seq"] + 1 for a, b in itertools.pairwise(records))


def _lag(r: Record) -> float:
    """How much later than its wire model the simulator handed out the reply's last byte."""
    released = r.get("reply_released")
    return 0.0 if released is None else max(0.0, released - r["reply_end"])


def full_rounds(
    records: Sequence[Record], fmt: SerialFormat, units: Sequence[int]
) -> list[tuple[float, float, float]]:
    """(measured, theory, the simulator's release lag summed over the round)
    in seconds per clean round: unit 1's poll to its next, with exactly one
    status poll of every unit in between and nothing else."""
    starts = [i for i, r in enumerate(records) if _is_poll(r) and r["unit"] == units[0]]
    rounds = []
    for a, b in itertools.pairwise(starts):
        seg = records[a:b]
        if len(seg) != len(units) or not _contiguous(records[a : b + 1]):
            continue
        if not all(_is_poll(r) for r in seg) or sorted(r["unit"] for r in seg) != sorted(units):
            continue
        measured = records[b]["request_start"] - records[a]["request_start"]
        theory = sum(
            fmt.transaction_time(r["request_bytes"], r["reply_bytes"], TURNAROUND) for r in seg
        )
        rounds.append((measured, theory, sum(_lag(r) for r in seg)))
    return rounds


def board_cycles(records: Sequence[Record], units: Sequence[int]) -> list[float]:
    """One board's status poll to its next one, for each of `units`; only
    where every frame in between is a status read (a poll, or the probe of an
    offline board): the cycle a board sees in steady polling."""
    out = []
    for unit in units:
        idx = [i for i, r in enumerate(records) if _is_poll(r) and r["unit"] == unit]
        for a, b in itertools.pairwise(idx):
            seg = records[a : b + 1]
            if _contiguous(seg) and all(r["function"] == 4 for r in seg):
                out.append(records[b]["request_start"] - records[a]["request_start"])
    return out


def idle_gaps(records: Sequence[Record]) -> list[float]:
    """End of a reply on the wire to the start of the next request."""
    return [
        b["request_start"] - a["reply_end"]
        for a, b in itertools.pairwise(records)
        if b["seq"] == a["seq"] + 1 and a.get("reply_end") is not None
    ]


@dataclass(frozen=True)
class Window:
    records: list[Record]
    cpu: float  # seconds of this process's CPU, less the record fetching
    transactions: int  # as the owner counted them
    wall: float
    violations: int  # the simulator's t3.5 violations during the window
    live_faults: int  # faults of the boards that are online (units 1..7)


def _live_faults(owner: BusOwner) -> int:
    boards = owner.statistics().boards
    return sum(sum(b.faults.values()) for b in boards if b.board.unit != OFFLINE_UNIT)


async def _window(owner: BusOwner, log: SimLog, transactions: int) -> Window:
    """Let the owner run for `transactions` transactions."""
    await log.afetch()
    mark = log.mark()
    violations = log.counters.get("silence_violations", 0)
    faults = _live_faults(owner)
    first = owner.statistics().transactions
    fetched_at = first
    fetch_cpu = log.fetch_cpu
    cpu = time.process_time()
    wall = time.monotonic()
    while True:
        await asyncio.sleep(0.2)
        done = owner.statistics().transactions
        if done - first >= transactions:
            break
        if done - fetched_at >= FETCH_EVERY:
            await log.afetch()
            fetched_at = done
    cpu = time.process_time() - cpu - (log.fetch_cpu - fetch_cpu)
    wall = time.monotonic() - wall
    count = owner.statistics().transactions - first
    faults = _live_faults(owner) - faults
    await log.afetch()
    violations = log.counters.get("silence_violations", 0) - violations
    return Window(log.records[mark:], cpu, count, wall, violations, faults)


async def _wait_health(owner: BusOwner, board: BoardId, health: Health, limit: float) -> None:
    deadline = time.monotonic() + limit
    while owner.snapshot(board).health is not health:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{board} did not become {health} within {limit} s")
        await asyncio.sleep(0.02)


async def _measure(sim: RunningSim, fmt: SerialFormat, sizes: Sizes) -> BusResult:
    async def consume(snapshot: BoardSnapshot) -> None:
        return None

    config = BusConfig(
        BUS,
        sim.serial_path,
        tuple(Board(unit, CHANNELS) for unit in range(1, BOARDS + 1)),
        format=fmt,
        poll_interval=0.0,
    )
    units = list(range(1, BOARDS + 1))
    others = units[:-1]
    log = SimLog(sim)
    status = rb.status_request(CHANNELS)
    txn_theory = fmt.transaction_time(8, reply_length(status), TURNAROUND)
    async with BusOwner(config, consume) as owner:
        for unit in units:
            await _wait_health(owner, BoardId(BUS, unit), Health.ONLINE, 10)
        await asyncio.sleep(0.5)  # past the start-up acknowledgements

        # 1. flat out, all eight online
        flat = await _window(owner, log, sizes.rounds * BOARDS + BOARDS + 1)
        records = flat.records
        rounds = full_rounds(records, fmt, units)
        gaps = idle_gaps(records)
        online_cycles = board_cycles(records, others)

        # 2. card -> unlock while polling
        card = await card_to_unlock(sim, owner, log, fmt, sizes.swipes, BOARDS, CHANNELS)
        await asyncio.sleep(0.5)

        # 3. unit 8 offline
        await asyncio.to_thread(control, sim, {"cmd": "offline", "unit": OFFLINE_UNIT})
        await _wait_health(owner, BoardId(BUS, OFFLINE_UNIT), Health.OFFLINE, 10)
        off = await _window(owner, log, sizes.rounds * len(others) + len(others) + 1)
    offline_cycles = board_cycles(off.records, others)
    probes = sum(1 for r in off.records if r["unit"] == OFFLINE_UNIT)
    nan = float("nan")
    return BusResult(
        baud=fmt.baud,
        fmt=fmt,
        cycle=Dist.of([m for m, _, _ in rounds]),
        cycle_theory_ms=median([t for _, t, _ in rounds]) * 1000 if rounds else nan,
        cycle_ratio_median=median([m / t for m, t, _ in rounds]) if rounds else nan,
        cycle_ratio_host=median([(m - lag) / t for m, t, lag in rounds]) if rounds else nan,
        sim_lag=Dist.of([_lag(r) for r in records if r.get("reply_end") is not None]),
        gap=Dist.of(gaps),
        t35_ms=fmt.t35 * 1000,
        silence_violations=flat.violations,
        violations_total=log.counters.get("silence_violations", 0),
        cpu_per_txn_us=flat.cpu / flat.transactions * 1e6,
        txn_theory_ms=txn_theory * 1000,
        window_txns=flat.transactions,
        board_cycle_online=Dist.of(online_cycles),
        board_cycle_offline=Dist.of(offline_cycles),
        offline_probes=probes,
        offline_window_s=off.wall,
        card=card,
        lost_records=log.lost,
        live_faults=flat.live_faults + off.live_faults,
    )


def run_one(baud: int, sizes: Sizes) -> BusResult:
    fmt = SerialFormat.parse(baud, FRAME)
    with locker_sim(
        "--baud",
        str(baud),
        "--format",
        FRAME,
        "--boards",
        str(BOARDS),
        "--channels",
        str(CHANNELS),
        "--turnaround-ms",
        str(TURNAROUND * 1000),
    ) as sim:
        return asyncio.run(_measure(sim, fmt, sizes))


# -- tables ------------------------------------------------------------------------


def _f(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def summary_rows(r: BusResult) -> list[tuple[object, ...]]:
    """One row per measurement: measurement, line, n, measured, baseline,
    ratio, target, met."""
    line = f"{r.baud} {r.fmt.name}"
    card = r.card
    offline_ratio = r.board_cycle_offline.median / r.board_cycle_online.median
    cpu_ratio = r.cpu_per_txn_us / 1000 / r.txn_theory_ms
    return [
        (
            "full poll cycle (8 boards), median",
            line,
            r.cycle.n,
            f"{_f(r.cycle.median)} ms",
            f"theory {_f(r.cycle_theory_ms)} ms",
            _f(r.cycle_ratio_median, 3),
            "ratio <= 1.15",
            "yes" if r.cycle_ratio_median <= 1.15 else "**no**",
        ),
        (
            "idle gap on the wire, median (p99)",
            line,
            r.gap.n,
            f"{_f(r.gap.median, 3)} ({_f(r.gap.p99, 3)}) ms",
            f"t3.5 {_f(r.t35_ms, 3)} ms",
            f"{_f(r.gap.median / r.t35_ms, 3)} ({_f(r.gap.p99 / r.t35_ms, 3)})",
            "report (min >= t3.5)",
            "yes" if r.gap.minimum >= r.t35_ms and r.silence_violations == 0 else "**no**",
        ),
        (
            "card decoded -> unlock frame on the wire, p99",
            line,
            card.n,
            f"{_f(card.latency.p99)} ms",
            f"bound {_f(card.bound_ms)} ms",
            _f(card.latency.p99 / card.bound_ms, 3),
            "p99 <= bound",
            "yes" if card.n and card.latency.p99 <= card.bound_ms else "**no**",
        ),
        (
            "unit 8 offline: units 1-7 cycle, median",
            line,
            r.board_cycle_offline.n,
            f"{_f(r.board_cycle_offline.median)} ms",
            f"all online {_f(r.board_cycle_online.median)} ms",
            _f(offline_ratio, 3),
            "ratio <= 1.10",
            "yes" if offline_ratio <= 1.10 else "**no**",
        ),
        (
            "CPU per transaction (bench process)",
            line,
            r.window_txns,
            f"{r.cpu_per_txn_us:.0f} us",
            f"transaction {_f(r.txn_theory_ms, 3)} ms",
            _f(cpu_ratio, 3),
            "report",
            "-",
        ),
    ]


SUMMARY_HEADER = ("measurement", "line", "n", "measured", "baseline", "ratio", "target", "met")


def detail_rows(r: BusResult) -> tuple[object, ...]:
    c = r.card
    return (
        f"{r.baud} {r.fmt.name}",
        f"{_f(r.cycle.median)} / {_f(r.cycle.p95)} / {_f(r.cycle.p99)} / {_f(r.cycle.maximum)}",
        f"{_f(r.sim_lag.median, 3)} / {_f(r.sim_lag.p99, 3)}",
        _f(r.cycle_ratio_host, 3),
        f"{_f(r.gap.minimum, 3)} / {_f(r.gap.median, 3)} / {_f(r.gap.p99, 3)}",
        f"{r.silence_violations} / {r.violations_total}",
        f"{_f(c.latency.median)} / {_f(c.latency.p99)} / {_f(c.latency.maximum)}",
        f"{_f(c.hop.median, 3)} / {_f(c.hop.p99, 3)}",
        f"{_f(r.board_cycle_online.median)} / {_f(r.board_cycle_online.p99)}",
        f"{_f(r.board_cycle_offline.median)} / {_f(r.board_cycle_offline.p99)} / "
        f"{_f(r.board_cycle_offline.maximum)}",
        f"{_f(r.board_cycle_offline.mean / r.board_cycle_online.mean, 3)}",
        f"{r.offline_probes} in {r.offline_window_s:.0f} s",
        r.live_faults,
        r.lost_records + c.unmatched,
    )


DETAIL_HEADER = (
    "line",
    "cycle median / p95 / p99 / max ms",
    "simulator reply release lag median / p99 ms",
    "cycle ratio less that lag",
    "idle gap min / median / p99 ms",
    "t3.5 violations: flat-out window / whole run",
    "card -> unlock median / p99 / max ms",
    "reader thread -> event loop median / p99 ms",
    "units 1-7 cycle, all online: median / p99 ms",
    "unit 8 offline: median / p99 / max ms",
    "offline / online mean cycle",
    "probes of unit 8",
    "faults of online boards (windows 1, 3)",
    "records lost or unmatched",
)


def tables(results: Sequence[BusResult]) -> tuple[str, str]:
    summary = [row for r in results for row in summary_rows(r)]
    return (
        markdown_table(SUMMARY_HEADER, summary),
        markdown_table(DETAIL_HEADER, [detail_rows(r) for r in results]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.bus_owner")
    parser.add_argument("--quick", action="store_true", help="30 rounds, 20 swipes")
    parser.add_argument("--bauds", default=",".join(str(b) for b in BAUDS))
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    print(machine(), flush=True)
    results = []
    for baud in (int(b) for b in args.bauds.split(",")):
        results.append(run_one(baud, sizes))
        print(f"  {baud} done", flush=True)
    summary, detail = tables(results)
    print(summary)
    print(detail)


if __name__ == "__main__":
    main()
