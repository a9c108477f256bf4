"""The simulator's transaction records, fetched in pages so none are lost.

`locker-sim stats` answers at most the last 1000 records after `since`, out
of a ring of 2000; a window longer than that is fetched while it runs
(`fetch` from a worker thread, so the bus owner's event loop never blocks
on the control socket). Records carry the wire model's times on
CLOCK_MONOTONIC, the same clock as this process's `time.monotonic()`.

The CPU this process spends fetching and decoding records is counted
(`fetch_cpu`, thread CPU time) so that the CPU-per-transaction figure can
leave it out: it is the benchmark's cost, not the bus owner's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .harness import RunningSim
from .wire_time import control

Record = dict[str, Any]
PAGE = 1000  # the simulator's largest `limit`


class SimLog:
    def __init__(self, sim: RunningSim) -> None:
        self._sim = sim
        self.records: list[Record] = []
        self.last_seq = 0
        self.counters: dict[str, int] = {}
        self.fetch_cpu = 0.0
        self.lost = 0  # records that fell out of the ring before they were fetched

    def fetch(self) -> int:
        """Fetch every record after the last one seen; how many came."""
        started = time.thread_time()
        answer = control(self._sim, {"cmd": "stats", "since": self.last_seq, "limit": PAGE})
        buses = answer["buses"]
        assert isinstance(buses, dict) and buses, answer
        bus = next(iter(buses.values()))
        records: list[Record] = bus["transactions"]
        self.counters = dict(bus["counters"])
        if records:
            if self.last_seq and records[0]["seq"] != self.last_seq + 1:
                self.lost += records[0]["seq"] - self.last_seq - 1
            self.records.extend(records)
            self.last_seq = records[-1]["seq"]
        self.fetch_cpu += time.thread_time() - started
        return len(records)

    async def afetch(self) -> int:
        return await asyncio.to_thread(self.fetch)

    def mark(self) -> int:
        """An index into `records`: everything from here on is new."""
        return len(self.records)
