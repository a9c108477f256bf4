"""Housekeeping on a schedule: personal-data purge, forgotten command replies, WAL checkpoint.

Each job runs once soon after start-up (a box that was off for a week
purges what fell due meanwhile) and then every interval of
`[housekeeping]`. The purge and the command clean-up compare stored
wall-clock times with now, so they wait while the wall clock is not
trusted: a clock a year ahead would purge too early and forget replies that
must still de-duplicate. Results are logged; a failing job is logged and
tried again at its next turn (the store is the truth and may be briefly
busy), never allowed to stop the daemon.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from locker_host.app import LockerService
from locker_host.store import Store, StoreError

from .config.policy import Housekeeping

logger = logging.getLogger(__name__)

FIRST_RUN_DELAY_S = 5.0


@dataclass
class _Job:
    name: str
    interval_s: float
    needs_trusted_clock: bool
    work: Callable[[Store, datetime], object]
    due_mono_s: float = 0.0


class Housekeeper:
    def __init__(
        self,
        service: LockerService,
        settings: Housekeeping,
        *,
        first_run_delay_s: float = FIRST_RUN_DELAY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._service = service
        self._clock = clock
        retention = timedelta(seconds=settings.personal_data_retention_s)
        self.jobs = [
            _Job(
                "purge_personal_data",
                settings.purge_interval_s,
                True,
                lambda store, now: store.purge_personal_data(now=now, retention=retention),
            ),
            _Job(
                "forget_expired_commands",
                settings.command_cleanup_interval_s,
                True,
                lambda store, now: store.forget_expired_commands(now=now),
            ),
            _Job(
                "checkpoint",
                settings.checkpoint_interval_s,
                False,
                lambda store, now: store.checkpoint(),
            ),
        ]
        start = clock() + first_run_delay_s
        for job in self.jobs:
            job.due_mono_s = start

    async def run(self) -> None:
        while True:
            now = self._clock()
            for job in self.jobs:
                if job.due_mono_s <= now:
                    await self.run_job(job)
            await asyncio.sleep(max(0.0, min(j.due_mono_s for j in self.jobs) - self._clock()))

    async def run_job(self, job: _Job) -> None:
        job.due_mono_s = self._clock() + job.interval_s
        reading = self._service.now()
        if job.needs_trusted_clock and not reading.clock_trusted:
            logger.info("housekeeping waits for a trusted clock", extra={"job": job.name})
            return
        now = datetime.fromtimestamp(reading.wall_s, UTC)
        try:
            result = await self._service.runner.run(lambda store: job.work(store, now))
        except StoreError as failure:
            logger.error("housekeeping failed", extra={"job": job.name, "error": failure.code})
            return
        logger.info("housekeeping done", extra={"job": job.name, "result": str(result)})
