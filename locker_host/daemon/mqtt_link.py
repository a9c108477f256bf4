"""The daemon's side of the MQTT link: its `LockerPort` and the bridge's supervisor.

`ServicePort` is the application as the bridge sees it: the command API,
the snapshot and the outbox (read through the service's store runner, never
a second connection). `MqttLink` runs the bridge as one task of the daemon:

* every commit of the service wakes the bridge (`LockerService.add_listener`),
  so an event leaves for the broker as soon as it is on disk instead of at
  the bridge's next look;
* a bridge that fails (`BridgeFailed`: a paho callback raised, its network
  thread died) is logged and started again with back-off; the locker keeps
  serving the people in front of it meanwhile (its events wait in the outbox);
* `stop()` lets the bridge say `offline` (reason `shutdown`) and disconnect
  cleanly, so the broker does not publish the Will.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from locker_host.app import AppError, CentralRequest, CommandApi, LockerService, parse_envelope
from locker_host.app import refusal as app_refusal
from mqtt_bridge import BridgeConfig, BridgeFailed, MqttBridge, OutboxStats, PendingEvent

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 5.0
RESTART_MIN_S = 1.0
RESTART_MAX_S = 60.0


class ServicePort:
    """`mqtt_bridge.LockerPort` over the running service."""

    def __init__(self, api: CommandApi, service: LockerService) -> None:
        self._api = api
        self._service = service

    async def handle_command(self, name: str, payload: object) -> dict[str, Any]:
        return (await self._api.handle(name, payload)).to_json()

    @staticmethod
    def read_envelope(payload: Mapping[str, Any]) -> CentralRequest | dict[str, Any]:
        try:
            return parse_envelope(payload)
        except AppError as problem:
            return app_refusal(problem).to_json()

    def expired(self, expires_at_wall_s: float) -> dict[str, Any] | None:
        problem = self._service.stale(expires_at_wall_s)
        return None if problem is None else app_refusal(problem).to_json()

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


class MqttLink:
    def __init__(
        self,
        config: BridgeConfig,
        port: ServicePort,
        service: LockerService,
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._wall = wall
        self._port = port
        self._service = service
        self._bridge: MqttBridge | None = None
        self._stopping = asyncio.Event()
        self.restarts = 0

    def statistics(self) -> dict[str, Any]:
        """For `lockerd admin health` and metrics: the running bridge's figures."""
        bridge = self._bridge
        figures: dict[str, Any] = {
            "brokers": [str(broker) for broker in self._config.brokers],
            "protocol": self._config.protocol,
            "client_id": self._config.mqtt_client_id,
            "restarts": self.restarts,
        }
        if bridge is not None:
            stats = asdict(bridge.statistics())
            stats["alarms"] = list(stats["alarms"])
            figures.update(stats)
        else:
            figures["connected"] = False
        if figures.get("broker") is None:  # not connected yet: the first to be tried
            figures["broker"] = figures["brokers"][0]
        return figures

    async def run(self) -> None:
        delay = RESTART_MIN_S
        remove = self._service.add_listener(self._wake)
        try:
            while not self._stopping.is_set():
                self._bridge = MqttBridge(self._config, self._port, wall=self._wall)
                try:
                    await self._bridge.run()
                    return  # stop(): a clean end
                except BridgeFailed as exc:
                    self.restarts += 1
                    logger.error(
                        "mqtt bridge failed; starting it again",
                        extra={"error": str(exc), "restart_in_s": delay},
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, RESTART_MAX_S)
        finally:
            remove()

    async def stop(self, task: asyncio.Task[None]) -> None:
        """End the bridge cleanly (status `offline`, DISCONNECT); cancel it if it hangs."""
        self._stopping.set()
        if self._bridge is not None:
            self._bridge.stop()
        done, _ = await asyncio.wait([task], timeout=STOP_TIMEOUT_S)
        if not done:
            logger.warning("mqtt bridge did not stop in time; cancelled")
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _wake(self) -> None:
        if self._bridge is not None:
            self._bridge.wake()
