"""``LockerPort`` over the real application, the way the daemon wraps its service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from locker_host.app import CommandApi, LockerService
from mqtt_bridge import OutboxStats, PendingEvent


class ServicePort:
    def __init__(self, api: CommandApi, service: LockerService) -> None:
        self._api = api
        self._service = service

    async def handle_command(self, name: str, payload: object) -> dict[str, Any]:
        return await self._api.handle(name, payload)

    async def snapshot(self) -> dict[str, Any]:
        return await self._service.snapshot()

    async def pending_events(self, *, after_seq: int, limit: int) -> Sequence[PendingEvent]:
        return await self._service.runner.run(
            lambda store: store.pending_events(after_seq=after_seq, limit=limit)
        )

    async def ack_events(self, *, boot_id: str, seq: int) -> int:
        return await self._service.runner.run(
            lambda store: store.ack_events(boot_id=boot_id, seq=seq)
        )

    async def outbox_stats(self) -> OutboxStats:
        return await self._service.runner.run(lambda store: store.outbox_statistics())
