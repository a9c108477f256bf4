"""A locker with its bridge on a broker, and the central system watching its topics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locker_host.daemon.mqtt_link import ServicePort
from mqtt_bridge import BridgeConfig, MqttBridge, Topics
from tests.app.harness import HOUR, Locker, iso

from .broker import Mosquitto
from .central import Central, Message
from .contract import Contract

SITE, LOCKER = "hall1", "L1"
TOPICS = Topics(SITE, LOCKER)
WAIT_S = 10.0


def bridge_config(port: int, protocol: str = "5", **overrides: Any) -> BridgeConfig:
    settings: dict[str, Any] = {
        "site": SITE,
        "locker": LOCKER,
        "host": "127.0.0.1",
        "port": port,
        "protocol": protocol,
        "poll_interval_s": 0.05,
        "reconnect_min_s": 1,
        "reconnect_max_s": 1,
        "keepalive_s": 5,
        "software": "0.1.0-test",
    }
    settings.update(overrides)
    return BridgeConfig(**settings)


def bridge_for(locker: Locker, config: BridgeConfig) -> MqttBridge:
    return MqttBridge(config, ServicePort(locker.api, locker.service), wall=locker.clock.wall)


@contextlib.asynccontextmanager
async def running(
    bridge: MqttBridge, *, connected: bool = True
) -> AsyncIterator[asyncio.Task[None]]:
    """Run the bridge as a task; stop it on the way out, raising whatever made run() fail."""
    task = asyncio.create_task(bridge.run())
    try:
        if connected:
            waiter = asyncio.create_task(bridge.wait_connected())
            done, _ = await asyncio.wait(
                {task, waiter}, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED
            )
            waiter.cancel()
            if task in done:
                task.result()
            if waiter not in done:
                raise TimeoutError("the bridge did not connect")
        yield task
    finally:
        bridge.stop()
        await asyncio.wait_for(task, WAIT_S)


@dataclass
class Linked:
    locker: Locker
    bridge: MqttBridge
    central: Central
    broker: Mosquitto

    def payload(self, **fields: Any) -> dict[str, Any]:
        return self.locker.payload(**fields)

    async def request(self, name: str, **fields: Any) -> dict[str, Any]:
        """A command with a fresh command_id and an hour to live; the reply envelope."""
        return await self.central.request(TOPICS, name, self.payload(**fields))

    async def ok(self, name: str, **fields: Any) -> dict[str, Any]:
        reply = await self.request(name, **fields)
        assert reply["reply"]["ok"], reply
        return dict(reply["reply"])

    async def retained(self, topic: str) -> Message:
        return await self.central.receive(lambda m: m.topic == topic, WAIT_S)


@contextlib.asynccontextmanager
async def linked(
    broker: Mosquitto, db_path: Path, contract: Contract, **overrides: Any
) -> AsyncIterator[Linked]:
    locker = await Locker.start(db_path)
    try:
        central = Central(broker.port, contract=contract, v5=broker.v5)
        await central.connect()
        await central.subscribe(f"{TOPICS.root}/#")
        bridge = bridge_for(locker, bridge_config(broker.port, broker.protocol, **overrides))
        async with running(bridge):
            yield Linked(locker, bridge, central, broker)
        await central.close()
    finally:
        await locker.close()


def expires_in(locker: Locker, seconds: float = HOUR) -> str:
    return iso(locker.clock.wall_s + seconds)
