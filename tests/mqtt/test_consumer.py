"""The contract's consumer (consumer.py), which the MQTT, e2e and crash tests trust to
follow the contract, loses no event that the broker delivered to it.

It used to: when idle it acknowledged (awaiting the PUBACK) and then dropped every
unread message as "replies to our replays", events that arrived during that await
included. The broker had them PUBACKed, so nothing sent them again and, with no later
event to show the gap, they waited in lockerd's outbox until the bridge's resend after
``resend_unacked_after_s`` (120 s): the crash suite's "events stall in the outbox".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from .consumer import Consumer
from .harness import TOPICS, WAIT_S, linked
from .test_events import _until, produce


@dataclass
class AckingWhileEventsArrive(Consumer):
    """Runs ``during_ack`` once, inside the first acknowledgement of ``armed_at`` or more,
    after its PUBACK: whatever that delivers arrived while the consumer was acknowledging."""

    armed_at: int = 1
    during_ack: Callable[[], Awaitable[None]] | None = None

    async def _ack(self) -> None:
        acked = self._acked
        await super()._ack()
        hook = self.during_ack
        if hook is not None and self._acked > acked and self._acked >= self.armed_at:
            self.during_ack = None
            await hook()


async def test_an_event_arriving_while_the_consumer_acknowledges_is_processed(
    broker, db_path: Path, contract
) -> None:
    consumer = AckingWhileEventsArrive(
        broker.port,
        TOPICS,
        contract,
        "2030-01-01T00:00:00Z",
        ack_every=1_000,
        armed_at=4,
        v5=broker.v5,
    )
    await consumer.start()  # its session, so that it misses nothing the locker publishes
    await consumer.stop()
    # No resend timer: only the consumer's own handling can bring the event in.
    async with linked(broker, db_path, contract, resend_unacked_after_s=None) as link:
        locker = link.locker
        arrived = asyncio.Event()

        async def an_event_arrives() -> None:
            await produce(locker, 1, start=3)
            central = consumer._central
            assert central is not None
            await _until(lambda: central.unread(lambda m: m.topic == TOPICS.events))
            arrived.set()

        consumer.during_ack = an_event_arrives
        await consumer.start()
        try:
            await produce(locker, 3)
            await asyncio.wait_for(arrived.wait(), WAIT_S)  # while the consumer was acking
            await consumer.wait_for(5, timeout=WAIT_S)  # locker.restarted, 3 and that one
        finally:
            await consumer.stop()
    assert [e["seq"] for e in consumer.accepted] == [1, 2, 3, 4, 5]
    assert (consumer.gaps, consumer.replays, consumer.sessions_lost) == (0, 1, 1)  # at first
    assert consumer.arrived_during_ack == 1
