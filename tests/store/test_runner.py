"""The writer thread: store work runs off the event loop, one call at a time, in order."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import pytest

from locker_host.store import (
    AuditOutcome,
    AuditRecord,
    Store,
    StoreClosed,
    StoreRunner,
    UnitOfWork,
    UnknownPersonalRef,
    new_personal_ref,
)

from .builders import events_work


def test_calls_run_on_one_thread_that_is_not_the_loops(db_path: Path, now: datetime) -> None:
    async def main() -> set[int]:
        async with await StoreRunner.open(db_path, now=now) as runner:
            return {await runner.run(lambda _: threading.get_ident()) for _ in range(5)}

    threads = asyncio.run(main())
    assert len(threads) == 1
    assert threading.get_ident() not in threads


def test_concurrent_commits_are_serialised_in_call_order(db_path: Path, now: datetime) -> None:
    async def main() -> list[int]:
        async with await StoreRunner.open(db_path, now=now) as runner:
            receipts = await asyncio.gather(
                *(runner.commit(events_work(1, first=n), now=now) for n in range(20))
            )
            assert runner.statistics().jobs_in_flight == 0
            return [r.events[0].seq for r in receipts]

    assert asyncio.run(main()) == list(range(1, 21))


def test_the_loop_keeps_running_while_the_writer_is_busy(db_path: Path, now: datetime) -> None:
    # The store job blocks until a coroutine on the loop releases it: if store
    # work ran on the loop, this would deadlock (the wait's timeout guards the test).
    release = threading.Event()

    def blocked(_: Store) -> bool:
        return release.wait(timeout=30)

    async def main() -> bool:
        async with await StoreRunner.open(db_path, now=now) as runner:
            job = asyncio.ensure_future(runner.run(blocked))
            await asyncio.sleep(0)
            release.set()
            return await job

    assert asyncio.run(main()) is True


def test_exceptions_reach_the_caller(db_path: Path, now: datetime) -> None:
    async def main() -> None:
        async with await StoreRunner.open(db_path, now=now) as runner:
            bad = UnitOfWork(
                audit=[
                    AuditRecord(
                        "citizen", "pickup", AuditOutcome.DENIED, personal_ref=new_personal_ref()
                    )
                ]
            )
            with pytest.raises(UnknownPersonalRef):
                await runner.commit(bad, now=now)
            assert (await runner.commit(events_work(1), now=now)).events[0].seq == 1

    asyncio.run(main())


def test_closed_runner_refuses_work(db_path: Path, now: datetime) -> None:
    async def main() -> None:
        runner = await StoreRunner.open(db_path, now=now)
        await runner.aclose()
        await runner.aclose()  # idempotent
        with pytest.raises(StoreClosed):
            await runner.commit(events_work(1), now=now)

    asyncio.run(main())


def test_store_refuses_use_from_another_thread(db_path: Path, now: datetime) -> None:
    async def main() -> None:
        async with await StoreRunner.open(db_path, now=now) as runner:
            store = await runner.run(lambda s: s)
            with pytest.raises(sqlite3.ProgrammingError, match="thread"):
                store.load_state()

    asyncio.run(main())
