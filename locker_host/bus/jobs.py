"""The bus owner's queue: unlocks first, then confirmation reads and
acknowledgements; routine polls are not queued at all, they fill the bus
whenever this queue is empty (modbus-timing 1.3: an unlock waits for at most
the one transaction in flight). Within a priority, first come first served.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from .drivers import WireExchange
from .model import BoardId, BoardSnapshot, UnlockResult


class Priority(IntEnum):
    UNLOCK = 0
    CONFIRM = 1  # confirmation reads and latch acknowledgements
    POLL = 2  # never queued: the round robin's


@dataclass(slots=True)
class UnlockJob:
    board: BoardId
    channel: int
    pulse_ms: int | None
    result: asyncio.Future[UnlockResult]


@dataclass(slots=True)
class ReadJob:
    """A poll (no `result`) or a confirmation read someone awaits."""

    board: BoardId
    result: asyncio.Future[BoardSnapshot] | None = None


@dataclass(slots=True)
class AckJob:
    board: BoardId
    exchange: WireExchange[Any]


Job = UnlockJob | ReadJob | AckJob


@dataclass(slots=True)
class JobQueue:
    _heap: list[tuple[int, int, Job]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, priority: Priority, job: Job) -> None:
        heapq.heappush(self._heap, (priority, next(self._seq), job))

    def pop(self) -> Job | None:
        while self._heap:
            _, _, job = heapq.heappop(self._heap)
            # A caller that gave up on its unlock must not have it fire later.
            if isinstance(job, UnlockJob) and job.result.done():
                continue
            return job
        return None

    def drain(self) -> list[Job]:
        jobs = [job for _, _, job in sorted(self._heap)]
        self._heap.clear()
        return jobs

    def has_read(self, board: BoardId) -> bool:
        return any(isinstance(j, ReadJob) and j.board == board for _, _, j in self._heap)
