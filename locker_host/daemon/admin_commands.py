"""What `lockerd admin` can ask the running daemon (the admin socket's handler).

Names of the application command API (reserve, cancel, expect_dropoff,
extend_deadline, recall_list, open, set_service, inventory) go to
`CommandApi.handle` unchanged: the same parsing, de-duplication by
`command_id`, expiry and replies as over MQTT, so certificate flows can run
before the MQTT link exists. The daemon's own commands:

    ping                                  {"pong": true}
    state                                 the published snapshot (no personal data)
    events       after_seq?, limit?       outbox events not yet acknowledged
    health                                buses, boards, readers, the service's counters
    commissioning                         which compartments a walk proved
    services                              the services offered at drop-off, the departments
    arm_dropoff  service, accessible?     the next ID card swipe starts that drop-off
    disarm_dropoff

Every reply is a `Reply` value: `{"ok": true, ...}` or `{"ok": false, "error": {"code", ...}}`
on the socket.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, replace
from typing import Any

from locker_host.app import (
    COMMANDS,
    CommandApi,
    Done,
    InvalidPayload,
    LockerService,
    Presentations,
    Refusal,
    Reply,
    UnknownCommand,
    log_reply,
    refusal,
)

from .commission import CommissioningStatus
from .config import DaemonConfig

logger = logging.getLogger(__name__)

OwnCommand = Callable[[Mapping[str, Any]], Awaitable[Reply]]
Health = Callable[[], Mapping[str, Any]]


def _invalid(message: str, field: str) -> Reply:
    return refusal(InvalidPayload(message, field=field))


class AdminHandler:
    def __init__(
        self,
        config: DaemonConfig,
        service: LockerService,
        *,
        api: CommandApi,
        presentations: Presentations,
        commissioning: CommissioningStatus,
        health: Health,
    ) -> None:
        self._config = config
        self._service = service
        self._api = api
        self._presentations = presentations
        self._commissioning = commissioning
        self._health = health
        self._own: dict[str, OwnCommand] = {
            "ping": self._ping,
            "state": self._state,
            "events": self._events,
            "health": self._health_reply,
            "commissioning": self._commissioning_reply,
            "services": self._services,
            "arm_dropoff": self._arm_dropoff,
            "disarm_dropoff": self._disarm_dropoff,
        }

    @property
    def commands(self) -> tuple[str, ...]:
        return (*COMMANDS, *self._own)

    async def __call__(self, name: str, payload: object) -> Reply:
        if name in COMMANDS:
            reply = await self._api.handle(name, payload)
            log_reply(f"admin {name}", reply)
            return reply
        command = self._own.get(name)
        if command is None:
            unknown = refusal(UnknownCommand(f"no command named {name[:40]!r}"))
            return replace(unknown, extra={"known": list(self.commands)})
        if not isinstance(payload, Mapping):
            return _invalid("the payload must be a JSON object", "payload")
        return await command(payload)

    # -- the daemon's own commands ----------------------------------------------------

    async def _ping(self, payload: Mapping[str, Any]) -> Reply:
        return Done({"pong": True})

    async def _state(self, payload: Mapping[str, Any]) -> Reply:
        return Done({"state": await self._service.snapshot()})

    async def _events(self, payload: Mapping[str, Any]) -> Reply:
        after = payload.get("after_seq", 0)
        limit = payload.get("limit", 100)
        for name, value in (("after_seq", after), ("limit", limit)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return _invalid("must be a whole number (0 or more)", name)
        events = await self._service.runner.run(
            lambda store: store.pending_events(after_seq=after, limit=min(limit, 1000))
        )
        return Done(
            {
                "events": [
                    {
                        "seq": e.seq,
                        "boot_id": str(e.boot_id),
                        "type": e.type,
                        "created_at": e.created_at.isoformat(),
                        "payload": e.payload,
                    }
                    for e in events
                ],
            }
        )

    async def _health_reply(self, payload: Mapping[str, Any]) -> Reply:
        return Done(self._health())

    async def _commissioning_reply(self, payload: Mapping[str, Any]) -> Reply:
        return Done(self._commissioning.as_dict())

    async def _services(self, payload: Mapping[str, Any]) -> Reply:
        armed = self._presentations.armed()
        return Done(
            {
                "services": [
                    {**asdict(s), "size": s.size.value, "labels": dict(s.labels)}
                    for s in self._config.services
                ],
                "departments": [
                    {"id": d.id, "labels": dict(d.labels)} for d in self._config.departments
                ],
                "armed": None if armed is None else armed.service.name,
            }
        )

    async def _arm_dropoff(self, payload: Mapping[str, Any]) -> Reply:
        name = payload.get("service")
        accessible = payload.get("accessible", False)
        unknown = sorted(set(payload) - {"service", "accessible"})
        if unknown:
            return _invalid("unknown field", unknown[0])
        if not isinstance(accessible, bool):
            return _invalid("must be true or false", "accessible")
        service = self._presentations.find_service(name)
        if isinstance(service, Refusal):
            return service
        armed = self._presentations.arm_dropoff(service, accessible=accessible, source="admin")
        return Done(
            {
                "armed": service.name,
                "department": service.department,
                "size": service.size.value,
                "expires_in_s": self._config.kiosk.dropoff_arm_timeout_s,
                "accessible": armed.accessible,
            }
        )

    async def _disarm_dropoff(self, payload: Mapping[str, Any]) -> Reply:
        self._presentations.disarm(source="admin")
        return Done()
