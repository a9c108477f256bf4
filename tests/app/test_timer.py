"""One timer for the service's deadlines: armed for the next one, re-armed when it moves,
never polled. The timer sleeps on a fake: the test sees each sleep it asks for, moves
the fake clock and ends the sleep; nothing here waits on real time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from locker_host.app import DeadlineTimer
from locker_host.app.timer import TimerStatistics
from locker_host.domain import Decision
from tests.domain.helpers import BOB_ID

from .fakes import FakeClock
from .harness import DAY, Locker, iso

# Only so that a timer that never asks fails the test instead of hanging it; no
# assertion here depends on how long anything takes.
HANG_S = 10.0


@dataclass
class FakeSleep:
    """Stands in for ``asyncio.sleep``: each sleep waits until the test ends it."""

    asked: asyncio.Queue[tuple[float, asyncio.Future[None]]] = field(default_factory=asyncio.Queue)
    count: int = 0

    async def __call__(self, delay_s: float) -> None:
        self.count += 1
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.asked.put_nowait((delay_s, done))
        await done

    async def next(self) -> tuple[float, asyncio.Future[None]]:
        """The next sleep the timer asks for."""
        return await asyncio.wait_for(self.asked.get(), HANG_S)


@dataclass
class Running:
    timer: DeadlineTimer
    sleep: FakeSleep
    fired: asyncio.Queue[Decision] = field(default_factory=asyncio.Queue)

    async def next_fired(self) -> Decision:
        return await asyncio.wait_for(self.fired.get(), HANG_S)

    async def settle(self) -> None:
        """Let the timer run up to its next wait (it asks the service, which needs no I/O)."""
        for _ in range(10):
            await asyncio.sleep(0)


@asynccontextmanager
async def running(locker: Locker) -> AsyncIterator[Running]:
    sleep = FakeSleep()
    fired: asyncio.Queue[Decision] = asyncio.Queue()
    timer = DeadlineTimer(locker.service, on_fired=fired.put_nowait, sleep=sleep)
    task = asyncio.create_task(timer.run())
    try:
        yield Running(timer, sleep, fired)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_deadline_fires_on_time_and_an_idle_locker_never_wakes(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    async with running(locker) as run:
        await run.settle()
        assert run.sleep.count == 0  # nothing due: no timer armed at all

        # A remote open: its confirmation deadline is armed as soon as it is saved.
        opened = (await locker.ok("open", compartment="B01", reason="check"))["opens"][0]
        delay, wake = await run.sleep.next()
        timeout = locker.service.config.policy.open_confirm_timeout_s
        assert delay == timeout

        locker.clock.advance(delay)
        wake.set_result(None)
        # It fires at the deadline: the door never opened, so the board is read, shows
        # the door shut, and the lock gets its one more pulse.
        await run.next_fired()
        assert locker.driver.reads[-1].open_id == opened["open_id"]
        assert locker.state.opens[opened["open_id"]].state.value == "retried"
        assert locker.driver.pulsed() == ["B01", "B01"]
        # The retry's deadline is armed, and nothing else was asked for.
        delay, _ = await run.sleep.next()
        assert delay == timeout
        assert run.timer.statistics() == TimerStatistics(armed=2, fired=1)
        assert run.sleep.count == 2 and run.fired.empty()
    await locker.close()


async def test_a_nearer_deadline_rearms_the_timer(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    certificate = await locker.reserve("APP-1", BOB_ID, deadline=iso(locker.clock.wall_s + DAY))
    await locker.load(certificate)
    async with running(locker) as run:
        recheck, far = await run.sleep.next()  # the wall-clock deadline, rechecked
        assert recheck == 60.0
        await locker.ok("open", compartment="B01", reason="check")
        delay, _ = await run.sleep.next()
        assert delay == locker.service.config.policy.open_confirm_timeout_s < recheck
        assert far.cancelled()  # one timer: the farther one is gone
        assert run.fired.empty()
    await locker.close()


async def test_a_clock_that_becomes_trusted_rearms_the_timer(db_path: Path) -> None:
    clock = FakeClock(trusted=False)
    locker = await Locker.start(db_path, clock=clock)
    certificate = await locker.reserve("APP-1", BOB_ID, deadline=iso(clock.wall_s + DAY))
    await locker.load(certificate)
    async with running(locker) as run:
        recheck, _ = await run.sleep.next()
        assert recheck == 60.0  # deadlines wait for a trusted clock
        clock.advance(2 * DAY)  # past the pickup deadline, on a clock nobody trusts yet
        clock.trusted = True
        locker.service.now()  # anything that reads the clock sees the change
        # Re-armed at once: the overdue deadline fires without waiting for the recheck.
        decision = await run.next_fired()
        assert [e.name for e in decision.events] == ["certificate.overdue"]
        assert run.sleep.count == 1
    await locker.close()
