"""A whole locker for the app tests: real SQLite file, the service, its front doors, fakes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from locker_host.app import (
    CommandApi,
    Keys,
    Kiosk,
    LockerService,
    ServiceConfig,
)
from locker_host.domain import (
    CompartmentId,
    DoorClosed,
    DoorOpened,
    ItemSensed,
    LockerConfig,
    LockerPolicy,
    LockerState,
    StaffRole,
    owner_refs,
    validate_id_number,
)
from locker_host.store import AuditEntry, OutboxEvent
from tests.domain.helpers import CODE_KEYS, OWNER_KEYS, config

from .fakes import FakeClock, FakeLocker, SeededCodes, StaffCards, staff

KEYS = Keys(owner=OWNER_KEYS, codes=CODE_KEYS)
HOUR = 3_600.0
DAY = 86_400.0

CARDS = {
    "card-tax": staff("S-tax", "tax"),
    "card-permits": staff("S-permits", "permits"),
    "card-super": staff("S-super", "tax", StaffRole.SUPERVISOR),
    "card-tech": staff("S-tech", "tax", StaffRole.TECHNICIAN),
}


def iso(wall_s: float) -> str:
    return datetime.fromtimestamp(wall_s, UTC).isoformat()


def owner_key(id_number: str) -> str:
    return owner_refs(OWNER_KEYS, validate_id_number(id_number))[0].key


@dataclass
class Locker:
    path: Path
    clock: FakeClock
    driver: FakeLocker
    codes: SeededCodes
    locker_config: LockerConfig
    service: LockerService = field(init=False)
    api: CommandApi = field(init=False)
    kiosk: Kiosk = field(init=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    async def start(
        cls,
        path: Path,
        *,
        clock: FakeClock | None = None,
        locker_config: LockerConfig | None = None,
        policy: LockerPolicy | None = None,
        driver: FakeLocker | None = None,
    ) -> Locker:
        locker_config = locker_config or config(policy=policy)
        locker = cls(
            path,
            clock or FakeClock(),
            driver or FakeLocker(locker_config.layout),
            SeededCodes(),
            locker_config,
        )
        await locker._open()
        return locker

    async def _open(self) -> None:
        self.service = await LockerService.open(
            ServiceConfig(self.locker_config, self.path, KEYS), driver=self.driver, clock=self.clock
        )
        self.api = CommandApi(self.service, self.codes)
        self.kiosk = Kiosk(self.service, StaffCards(dict(CARDS)))

    async def restart(self, *, locker_config: LockerConfig | None = None) -> None:
        """Stop and start again on the same database (the monotonic clock restarts too)."""
        await self.service.aclose()
        if locker_config is not None:
            self.locker_config = locker_config
            self.driver.layout = locker_config.layout
        self.clock.mono_s = 5.0
        await self._open()

    async def close(self) -> None:
        await self.service.aclose()

    # -- driving it ----------------------------------------------------------------

    def payload(self, **fields: Any) -> dict[str, Any]:
        fields.setdefault("command_id", f"cmd-{next(self._ids)}")
        fields.setdefault("expires_at", iso(self.clock.wall_s + HOUR))
        return fields

    async def central(self, name: str, **fields: Any) -> dict[str, Any]:
        return (await self.api.handle(name, self.payload(**fields))).to_json()

    async def ok(self, name: str, **fields: Any) -> dict[str, Any]:
        reply = await self.central(name, **fields)
        assert reply["ok"], reply
        return reply

    async def reserve(self, application: str, id_number: str, **fields: Any) -> str:
        fields.setdefault("size", "M")
        fields.setdefault("department", "tax")
        fields.setdefault("deadline", iso(self.clock.wall_s + 3 * DAY))
        reply = await self.ok(
            "reserve",
            application=application,
            owner_key=owner_key(id_number),
            key_version=OWNER_KEYS.current,
            **fields,
        )
        return str(reply["compartment"])

    async def use(self, compartment: str, *, item_after: bool) -> None:
        """A person opens the door, changes what is inside, closes it."""
        cid = CompartmentId(compartment)
        spec = self.locker_config.layout.spec(cid)
        self.driver.doors_open[compartment] = True
        await self.service.observe(DoorOpened(cid))
        self.driver.items[compartment] = item_after
        if spec.has_item_sensor:
            await self.service.observe(ItemSensed(cid, item_after))
        self.driver.doors_open[compartment] = False
        await self.service.observe(DoorClosed(cid, item_after if spec.has_item_sensor else None))

    async def load(self, *compartments: str, card: str = "card-tax") -> None:
        """A clerk's card opens every reserved compartment of the department; all get loaded."""
        reply = (await self.kiosk.staff_card(card, "load")).to_json()
        assert reply["ok"], reply
        assert sorted(o["compartment"] for o in reply["opens"]) == sorted(compartments)
        for compartment in compartments:
            await self.use(compartment, item_after=True)

    async def run_timers(self, limit: int = 5_000) -> None:
        """Sleep (on the fake clock) to each wakeup the service asks for, and fire it."""
        for _ in range(limit):
            wakeup = self.service.next_wakeup()
            if wakeup is None:
                return
            self.clock.advance(max(wakeup - self.clock.mono_s, 0.0))
            await self.service.on_timer()

    # -- looking at it ----------------------------------------------------------------

    @property
    def state(self) -> LockerState:
        return self.service.state

    def compartment_state(self, compartment: str) -> str:
        return self.state.compartments[CompartmentId(compartment)].state.value

    async def outbox(self) -> list[OutboxEvent]:
        return await self.service.runner.run(lambda s: s.pending_events(limit=100_000))

    async def event_types(self) -> list[str]:
        return [e.type for e in await self.outbox()]

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        return [dict(e.payload) for e in await self.outbox() if e.type == event_type]

    async def audit(self) -> list[AuditEntry]:
        return await self.service.runner.run(lambda s: s.audit_entries(limit=100_000))

    async def counts(self) -> tuple[int, int, int]:
        """(audit rows, outbox events, pulses): what a second execution would add to."""
        return len(await self.audit()), len(await self.outbox()), len(self.driver.pulses)
