"""One timer for the service's deadlines, armed rather than polled.

The shape is aioquic's ``get_timer()`` / ``handle_timer(now)``: the service
says when it next needs ``on_timer`` (``next_wakeup``, on the monotonic
clock); ``DeadlineTimer`` sleeps until exactly then, calls it, and asks again.
Whenever the answer may have moved, the service says so (``watch_timer``:
after every commit, after a change of trust in the wall clock) and the timer
is re-armed at once, so a new deadline nearer than the armed one is never
late. With nothing due the timer sleeps until woken: an idle locker does not
wake up at all.

Wall-clock deadlines need no polling either: ``next_wakeup`` is never more
than ``wall_recheck_s`` away while one is pending or while the clock is
untrusted, which is how a jump of the wall clock is noticed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from locker_host.domain import Decision

from .service import LockerService

Sleep = Callable[[float], Awaitable[None]]
"""Waits the given seconds of the monotonic clock (``asyncio.sleep``; a fake in tests)."""


@dataclass
class TimerStatistics:
    armed: int = 0  # sleeps begun towards a deadline
    fired: int = 0  # calls of on_timer


class DeadlineTimer:
    def __init__(
        self,
        service: LockerService,
        *,
        on_fired: Callable[[Decision], None] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._service = service
        self._on_fired = on_fired
        self._sleep = sleep
        self._moved = asyncio.Event()
        self._stats = TimerStatistics()

    def statistics(self) -> TimerStatistics:
        return TimerStatistics(**vars(self._stats))

    async def run(self) -> None:
        remove = self._service.watch_timer(self._moved.set)
        try:
            while True:
                # Cleared before asking, so a commit from here on re-arms.
                self._moved.clear()
                due = self._service.next_wakeup()
                now = self._service.now().mono_s
                if due is not None and due <= now:
                    self._stats.fired += 1
                    decision = await self._service.on_timer()
                    if self._on_fired is not None:
                        self._on_fired(decision)
                    continue
                await self._wait(None if due is None else due - now)
        finally:
            remove()

    async def _wait(self, delay_s: float | None) -> None:
        """Until ``delay_s`` has passed (None: never) or the deadline moved."""
        moved = asyncio.ensure_future(self._moved.wait())
        waiters: set[asyncio.Future[Any]] = {moved}
        if delay_s is not None:
            self._stats.armed += 1
            waiters.add(asyncio.ensure_future(self._sleep(delay_s)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
