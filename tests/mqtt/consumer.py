"""The central system's event consumer, behaving exactly as the contract tells it to.

Per locker it keeps ``last``, the highest seq processed: ``seq <= last`` is a
duplicate (checked: same event_id as the original), ``seq == last + 1`` is
processed, ``seq > last + 1`` is a gap and asks ``replay`` from ``last + 1``.
Connecting without its session also asks ``replay``. It acknowledges ``last``
cumulatively, every ``ack_every`` events and whenever it is idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from mqtt_bridge import Topics

from .central import Central
from .contract import Contract

_replays = itertools.count(1)


@dataclass
class Consumer:
    port: int
    topics: Topics
    contract: Contract
    expires_at: str  # for the replay commands it sends
    client_id: str = "central-events"
    v5: bool = True
    username: str | None = None
    password: str | None = None
    ack_every: int = 25
    idle_s: float = 0.1
    accepted: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    gaps: int = 0
    replays: int = 0
    sessions_lost: int = 0
    arrived_during_ack: int = 0  # events an idle ack's await let in (kept, see _run)
    _central: Central | None = None
    _task: asyncio.Task[None] | None = None
    _acked: int = 0
    _replayed_for: int = -1

    @property
    def last(self) -> int:
        return self.accepted[-1]["seq"] if self.accepted else 0

    async def start(self) -> None:
        central = Central(
            self.port,
            contract=self.contract,
            client_id=self.client_id,
            session_expiry_s=3_600,
            v5=self.v5,
            username=self.username,
            password=self.password,
        )
        present = await central.connect()
        await central.subscribe(self.topics.events, f"{self.topics.reply}/{self.client_id}")
        self._central = central
        if not present:
            self.sessions_lost += 1
            await self._replay()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Go offline without a goodbye to the session (it stays on the broker)."""
        assert self._task is not None and self._central is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._central.close()
        self._task = self._central = None

    async def wait_for(self, seq: int, timeout: float = 30.0) -> None:
        """Until everything through ``seq`` was processed and acknowledged."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.last < seq or self._acked < seq:
            if self._task is not None and self._task.done():
                self._task.result()
            if loop.time() > deadline:
                raise TimeoutError(f"consumer at {self.last} (acked {self._acked}), wanted {seq}")
            await asyncio.sleep(0.02)

    async def _run(self) -> None:
        assert self._central is not None
        events = self.topics.events
        while True:
            try:
                message = await self._central.receive(lambda m: m.topic == events, self.idle_s)
            except TimeoutError:
                await self._ack()
                # Only the replies to our replays: events that arrived while the ack was
                # awaited are unread too, and the broker will not deliver them again.
                self.arrived_during_ack += len(self._central.unread(lambda m: m.topic == events))
                self._central.forget_unread(lambda m: m.topic != events)
                continue
            await self._handle(message.json())

    async def _handle(self, event: dict[str, Any]) -> None:
        seq = event["seq"]
        if seq <= self.last:
            original = self.accepted[seq - 1] if seq <= len(self.accepted) else None
            assert original is not None and original["event_id"] == event["event_id"], event
            self.duplicates.append(event)
        elif seq == self.last + 1:
            self.accepted.append(event)
            if self.last - self._acked >= self.ack_every:
                await self._ack()
        else:
            self.gaps += 1
            if self._replayed_for != self.last:
                await self._replay()

    async def _ack(self) -> None:
        if self.last > self._acked and self._central is not None:
            boot_id = self.accepted[-1]["boot_id"]
            await self._central.publish(
                self.topics.events_ack, {"boot_id": boot_id, "seq": self.last}
            )
            self._acked = self.last

    async def _replay(self) -> None:
        assert self._central is not None
        self.replays += 1
        self._replayed_for = self.last
        await self._central.publish(
            self.topics.command("replay"),
            {
                "command_id": f"replay-{next(_replays)}",
                "expires_at": self.expires_at,
                "from_seq": self.last + 1,
            },
            response_topic=f"{self.topics.reply}/{self.client_id}",
            correlation=b"replay",
        )
