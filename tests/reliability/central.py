"""The central system's acknowledging consumer (tests/mqtt/consumer.py) on its own event
loop thread, for the synchronous lockerd tests, plus a `#` capture of every message.

`ConsumerJournal` gives those tests the event history the consumer accepted (in seq
order, gap-free by construction: it asks `replay` on a gap), with the same interface
as `daemon.Journal` (which reads the outbox and so needs events never acknowledged).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mqtt_bridge import Topics
from tests.e2e.lockerd import Lockerd
from tests.e2e.rig import wait_for
from tests.mqtt.central import Central, Message
from tests.mqtt.consumer import Consumer
from tests.mqtt.contract import Contract

from .daemon import Journal, iso_in

T = TypeVar("T")


class LoopThread:
    """An asyncio loop in a daemon thread; `call` runs a coroutine on it and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@dataclass
class SeeingConsumer(Consumer):
    """The contract's consumer, remembering every event it was handed (for diagnosis)."""

    seen: list[tuple[int, str, str]] = field(default_factory=list)

    async def _handle(self, event: dict[str, Any]) -> None:
        self.seen.append((event["seq"], event["boot_id"][:8], event["type"]))
        await super()._handle(event)


@dataclass
class CentralSide:
    """The consumer and a capture of ALL traffic on the broker (subscribed to `#`)."""

    port: int
    topics: Topics
    contract: Contract = field(default_factory=Contract)
    thread: LoopThread = field(default_factory=LoopThread)
    consumer: Consumer | None = None
    capture: Central | None = None

    def start(self) -> None:
        async def start() -> None:
            self.consumer = SeeingConsumer(
                self.port, self.topics, self.contract, iso_in(30 * 86400)
            )
            await self.consumer.start()
            self.capture = Central(self.port, client_id="capture-all")
            await self.capture.connect()
            await self.capture.subscribe("#")

        self.thread.call(start())

    def stop(self) -> None:
        async def stop() -> None:
            if self.consumer is not None:
                await self.consumer.stop()
            if self.capture is not None:
                await self.capture.close()

        try:
            self.thread.call(stop())
        finally:
            self.thread.close()

    def diagnosis(self, lockerd: Lockerd) -> str:
        """What the consumer and the daemon's link say, for a failure message."""
        c = self.consumer
        assert c is not None
        pending = lockerd.admin("events", {"limit": 3})["events"]
        mqtt = lockerd.admin("health").get("mqtt")
        lines = [line for line in lockerd.log_text().splitlines() if "mqtt" in line][-15:]
        task = c._task
        state = "no task" if task is None else "running"
        if task is not None and task.done():
            state = f"ENDED: {task.exception()!r}" if not task.cancelled() else "cancelled"
        return (
            f"consumer task {state}\n"
            f"consumer saw (last 12) {getattr(c, 'seen', [])[-12:]}\n"
            f"consumer last {c.last} acked {c._acked} gaps {c.gaps} replays {c.replays} "
            f"sessions lost {c.sessions_lost} duplicates {len(c.duplicates)} "
            f"arrived during an ack {c.arrived_during_ack}\n"
            f"pending {[(e['seq'], e['boot_id'][:8], e['type']) for e in pending]}\n"
            f"lockerd mqtt {mqtt}\n" + "\n".join(lines)
        )

    def accepted(self) -> list[dict[str, Any]]:
        assert self.consumer is not None
        return list(self.consumer.accepted)

    def duplicates(self) -> list[dict[str, Any]]:
        assert self.consumer is not None
        return list(self.consumer.duplicates)

    def arrived_during_ack(self) -> int:
        assert self.consumer is not None
        return self.consumer.arrived_during_ack

    def captured(self) -> list[Message]:
        assert self.capture is not None
        return list(self.capture.received)


@dataclass
class ConsumerJournal(Journal):
    central: CentralSide | None = None

    def refresh(self) -> list[dict[str, Any]]:
        """Until the daemon's outbox is empty: every event then was acknowledged, and the
        consumer only acknowledges an unbroken run from seq 1."""
        assert self.central is not None
        try:
            wait_for(
                lambda: self.lockerd.admin("events", {"limit": 1})["events"] == [],
                timeout=60,
                what="the consumer to acknowledge every event",
            )
        except AssertionError as exc:
            first = f"{exc}\n{self.central.diagnosis(self.lockerd)}"
            try:
                wait_for(
                    lambda: self.lockerd.admin("events", {"limit": 1})["events"] == [],
                    timeout=120,
                    what="healed",
                )
            except AssertionError:
                raise AssertionError(first + "\nNOT HEALED after 120 s more") from None
            raise AssertionError(first + "\nHEALED within 120 s more") from None
        before = len(self.events)
        self.events = self.central.accepted()
        return self.events[before:]
