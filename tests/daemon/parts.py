"""The daemon's parts around a real service (SQLite file, fake bus and clock), no processes."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from locker_host.app import CommandApi, Keys, Kiosk, LockerService, Presentations, ServiceConfig
from locker_host.daemon import DaemonConfig, parse_config, status_of, wiring_hash
from locker_host.daemon.admin_commands import AdminHandler
from locker_host.daemon.commission import CommissioningRecord, CompartmentResult
from locker_host.daemon.kiosk import build_presentations
from locker_host.daemon.staff import StaffCards
from locker_host.domain import Keyring, owner_refs, validate_id_number
from tests.app.fakes import FakeClock, FakeLocker, SeededCodes
from tests.domain.helpers import CODE_KEYS, OWNER_KEYS

from .conftest import VALID

STAFF_KEYS = Keyring({1: b"staff-secret-version-1!!"}, 1)
ALICE = "11010519491231002X"  # test numbers from tests/readers/numbers.py (leak-checked)
BOB = "130981199003071232"
KEYS = Keys(OWNER_KEYS, CODE_KEYS, STAFF_KEYS)


def passed_record(config: DaemonConfig) -> CommissioningRecord:
    walked = {
        str(s.id): CompartmentResult(
            s.id, True, "normal", "unverified", "", "2030-01-01T00:00:00+00:00"
        )
        for s in config.locker.layout
    }
    return CommissioningRecord(wiring_hash(config.locker.layout, config.buses), walked)


@dataclass
class Parts:
    config: DaemonConfig
    clock: FakeClock
    driver: FakeLocker
    service: LockerService
    kiosk: Kiosk
    api: CommandApi
    staff: StaffCards
    presentations: Presentations
    handler: AdminHandler

    @classmethod
    async def open(
        cls, tmp_path: Path, *, commissioned: bool = True, changes: dict[str, Any] | None = None
    ) -> Parts:
        data = copy.deepcopy(VALID)
        data["paths"] = {"database": str(tmp_path / "locker.db"), "secrets": "unused.toml"}
        data["kiosk"] = {"dropoff_arm_timeout_s": 30.0}
        data.update(changes or {})
        config = parse_config(data, tmp_path)
        clock = FakeClock()
        driver = FakeLocker(config.locker.layout)
        service = await LockerService.open(
            ServiceConfig(config.locker, config.paths.database, KEYS), driver=driver, clock=clock
        )
        record = passed_record(config) if commissioned else None
        status = status_of(
            record, config.locker.layout, wiring_hash(config.locker.layout, config.buses)
        )
        staff = StaffCards(STAFF_KEYS, config.staff)
        kiosk = Kiosk(service, staff, citizen_gate=status.refusal)
        api = CommandApi(service, SeededCodes())
        presentations = build_presentations(
            config, KEYS, service, kiosk, staff, clock=lambda: clock.mono_s
        )
        handler = AdminHandler(
            config,
            service,
            api=api,
            presentations=presentations,
            commissioning=status,
            health=lambda: {"buses": []},
        )
        return cls(config, clock, driver, service, kiosk, api, staff, presentations, handler)

    async def close(self) -> None:
        await self.service.aclose()


def iso(wall_s: float) -> str:
    return datetime.fromtimestamp(wall_s, UTC).isoformat()


def owner_key(id_number: str) -> str:
    return owner_refs(OWNER_KEYS, validate_id_number(id_number))[0].key
