"""Polling Kerong boards through the bus owner, against a real `locker-sim` process.

    .venv/bin/python -m bench.kerong_poll [--family kerong_cu48] [--boards 8] [--rounds 200]

One `locker-sim serve` process serves `boards` Kerong boards at their
factory format (19200 8N1, 1 ms simulated turnaround); one `BusOwner`
polls them flat out (poll_interval 0). From the simulator's transaction
records (its wire model, CLOCK_MONOTONIC), as bus_owner.py measures the
reference boards:

- full poll cycle: board 0's status read to its next one, with exactly one
  status read of every board in between, against the theory (request +
  reply bytes on the wire + 2 x t3.5 + turnaround per read);
- idle gap: the end of a reply to the start of the next request, against t3.5.

Then one unlock per board, timed on the host from `owner.unlock` to its
outcome: on either family the wait a prompt board's reply would take, then
the confirming status read (the simulated CU16's default firmware, like the
CU48, does not answer an unlock).

Measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections.abc import Sequence

from locker_host.bus import BoardId, BoardSnapshot, BusConfig, BusOwner, Health, KerongBoardConfig
from protocol.timing import SerialFormat

from .dist import Dist
from .harness import locker_sim, median
from .sim_log import Record, SimLog

TURNAROUND = 0.001
FMT = SerialFormat(19200, "N", 1)
STATUS = {"kerong_cu16": 0x30, "kerong_cu48": 0x50}
LOCKS = {"kerong_cu16": 16, "kerong_cu48": 48}


def rounds(
    records: Sequence[Record], status: int, units: Sequence[int]
) -> list[tuple[float, float]]:
    """(measured, theory) in seconds per clean round of status reads."""

    def poll(r: Record) -> bool:
        return bool(r["function"] == status and r["outcome"] == "reply")

    starts = [i for i, r in enumerate(records) if poll(r) and r["unit"] == units[0]]
    out = []
    for a, b in itertools.pairwise(starts):
        seg = records[a:b]
        if len(seg) != len(units) or not all(poll(r) for r in seg):
            continue
        if any(y["seq"] != x["seq"] + 1 for x, y in itertools.pairwise(records[a : b + 1])):
            continue
        theory = sum(
            FMT.transaction_time(r["request_bytes"], r["reply_bytes"], TURNAROUND) for r in seg
        )
        out.append((records[b]["request_start"] - records[a]["request_start"], theory))
    return out


async def measure(family: str, boards: int, n_rounds: int) -> None:
    with locker_sim(
        "--family",
        family,
        "--boards",
        str(boards),
        "--channels",
        str(LOCKS[family]),
        "--baud",
        "19200",
        "--format",
        "8N1",
        "--turnaround-ms",
        str(TURNAROUND * 1000),
    ) as sim:
        # `--boards N` numbers them 1..N
        units = list(range(1, boards + 1))
        config = BusConfig(
            "bus0",
            sim.serial_path,
            tuple(KerongBoardConfig(family, u) for u in units),  # type: ignore[arg-type]
            format=FMT,
            poll_interval=0.0,
        )

        async def consume(snapshot: BoardSnapshot) -> None:
            return None

        log = SimLog(sim)
        async with BusOwner(config, consume) as owner:
            for unit in units:
                while owner.snapshot(BoardId("bus0", unit)).health is not Health.ONLINE:
                    await asyncio.sleep(0.02)
            await log.afetch()
            mark = log.mark()
            first = owner.statistics().transactions
            while owner.statistics().transactions - first < n_rounds * boards + boards:
                await asyncio.sleep(0.2)
                await log.afetch()
            polled = log.records[mark:]
            unlocks = []
            for unit in units:
                started = time.monotonic()
                result = await owner.unlock(BoardId("bus0", unit), 1)
                unlocks.append((time.monotonic() - started, result.outcome.value))
        await log.afetch()
    found = rounds(polled, STATUS[family], units)
    gaps = [
        b["request_start"] - a["reply_end"]
        for a, b in itertools.pairwise(polled)
        if b["seq"] == a["seq"] + 1 and a.get("reply_end") is not None
    ]
    cycle = Dist.of([m for m, _ in found])
    theory = median([t for _, t in found])
    ratio = median([m / t for m, t in found])
    gap = Dist.of(gaps)
    unlock = Dist.of([s for s, _ in unlocks])
    print(f"{family}, {boards} boards, 19200 8N1, turnaround {TURNAROUND * 1000:g} ms")
    print(
        f"  full poll cycle: median {cycle.median:.2f} ms (p99 {cycle.p99:.2f}), n={cycle.n}; "
        f"theory {theory * 1000:.2f} ms; ratio {ratio:.3f}"
    )
    t35 = FMT.t35 * 1000
    print(f"  idle gap: median {gap.median:.3f} ms (min {gap.minimum:.3f}); t3.5 {t35:.3f} ms")
    print(
        f"  unlock -> acknowledged (host clock): median {unlock.median:.1f} ms, "
        f"max {unlock.maximum:.1f} ms; outcomes {sorted({o for _, o in unlocks})}"
    )
    print(
        f"  silence violations {log.counters.get('silence_violations', 0)}, lost records {log.lost}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.kerong_poll")
    parser.add_argument("--family", choices=tuple(STATUS), default="kerong_cu48")
    parser.add_argument("--boards", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    asyncio.run(measure(args.family, args.boards, args.rounds))


if __name__ == "__main__":
    main()
