"""Keeping SQLite off the event loop: one dedicated writer thread.

Every commit fsyncs (``synchronous=FULL``): 0.25 ms median on a virtual disk,
much more on SD cards and cheap eMMC (shared/notes/reliability-security.md
4.1). Run on the event loop, that pause would delay whatever else is due,
such as the next RS-485 transaction. :class:`StoreRunner` owns a
single-thread executor; the :class:`Store` is opened on that thread and only
ever used there (sqlite3 enforces the thread binding), so there is exactly one
writer and the calls are executed one at a time in the order they were made.
sqlite3 releases the GIL while SQLite works, so the loop keeps running.

Cancelling a task that awaits :meth:`StoreRunner.run` does not stop work
already running on the thread: a cancelled commit may still have committed.
That is the same case as a crash right after commit, which the service already
handles (an intent without its effect is reconciled, never re-executed).
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TypeVar

from .codec import BootId
from .errors import StoreClosed
from .store import Store, StoreConfig
from .unit_of_work import CommitReceipt, UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class RunnerStatistics:
    jobs_in_flight: int  # submitted and not finished: a growing number means the disk is slow


class StoreRunner:
    def __init__(self, store: Store, executor: ThreadPoolExecutor) -> None:
        # Use StoreRunner.open(): the store must have been opened on the executor's thread.
        self._store = store
        self._executor = executor
        self._closed = False
        self._in_flight = 0

    @classmethod
    async def open(
        cls, path: str | os.PathLike[str], *, now: datetime, config: StoreConfig | None = None
    ) -> StoreRunner:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        loop = asyncio.get_running_loop()
        try:
            store = await loop.run_in_executor(
                executor, functools.partial(Store.open, path, now=now, config=config)
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(store, executor)

    @property
    def boot_id(self) -> BootId:
        return self._store.boot_id

    async def run(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn(store)`` on the writer thread and return its result or raise its exception."""
        if self._closed:
            raise StoreClosed("the store runner is closed")
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, self._store)
        finally:
            self._in_flight -= 1

    async def commit(self, work: UnitOfWork, *, now: datetime) -> CommitReceipt:
        return await self.run(lambda store: store.commit(work, now=now))

    def statistics(self) -> RunnerStatistics:
        return RunnerStatistics(jobs_in_flight=self._in_flight)

    async def aclose(self) -> None:
        """Finish the calls already submitted, then close the database."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._store.close)
        finally:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> StoreRunner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
