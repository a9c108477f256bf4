"""The locker daemon, cut short: run by test_write_ahead.py as a real process.

``python -m tests.app.crash_child DB PULSE_LOG MODE`` starts the service on DB
and sends one remote open (command ``remote-1`` for A01). The driver appends
every pulse it is asked for to PULSE_LOG (fsynced) before doing anything else.

MODE ``crash-on-pulse``: the driver's pulse kills the process (``os._exit``)
right after logging it, i.e. between the commit and the effect.
MODE ``crash-on-pulse-door-open``: the same, with A01's door already open, so
that the decision also carries an event (``open.opened``, outcome already_open).
MODE ``crash-in-commit``: the process dies inside the commit's transaction,
after the state documents were written and before COMMIT.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locker_host.app import CommandApi, LockerService, PulseOutcome, ServiceConfig
from locker_host.domain import PulseLock
from locker_host.store import audit
from tests.domain.helpers import config

from .fakes import T0_WALL, FakeClock, FakeLocker, SeededCodes
from .harness import HOUR, KEYS, iso

EXIT_CODE = 137
REMOTE_OPEN = {
    "command_id": "remote-1",
    "compartment": "A01",
    "reason": "inspection",
    "expires_at": iso(T0_WALL + HOUR),
}


@dataclass
class PulseLog(FakeLocker):
    log: Path = Path("/dev/null")
    crash: bool = False

    async def pulse(self, effect: PulseLock) -> PulseOutcome:
        with self.log.open("a") as file:
            file.write(f"{effect.compartment} {effect.open_id}\n")
            file.flush()
            os.fsync(file.fileno())
        if self.crash:
            os._exit(EXIT_CODE)
        return await super().pulse(effect)


def die_inside_the_commit() -> None:
    original = audit.append

    def append(db: Any, record: audit.AuditRecord, *args: Any, **kwargs: Any) -> Any:
        if record.action == "remote_open":
            os._exit(EXIT_CODE)  # state documents written, transaction not committed
        return original(db, record, *args, **kwargs)

    audit.append = append


async def main(db: Path, log: Path, mode: str) -> None:
    locker_config = config()
    driver = PulseLog(locker_config.layout, log=log, crash=mode.startswith("crash-on-pulse"))
    if mode == "crash-on-pulse-door-open":
        driver.doors_open["A01"] = True
    service = await LockerService.open(
        ServiceConfig(locker_config, db, KEYS), driver=driver, clock=FakeClock()
    )
    if mode == "crash-in-commit":
        die_inside_the_commit()
    reply = await CommandApi(service, SeededCodes()).handle("open", REMOTE_OPEN)
    print("survived", reply, flush=True)  # never reached in a crash mode
    await service.aclose()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
