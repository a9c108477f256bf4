"""Server-Sent Events: the locker's changes pushed to the pages.

Theory of operation. One ``StreamHub`` per app listens to the service's
commits (``LockerService.add_listener``) and to the kiosk's outcomes
(``Presentations.add_listener``); both listeners are synchronous and quick. Each
connected client is a ``_Client`` with a queue of ready events and a
"state is stale" flag:

* a commit marks every client's state stale; the client's generator sends one
  snapshot when its last one is at least ``state_interval_s`` old, so a burst
  of commits (a door, an item, a close) costs one snapshot per interval, and
  the latest state is always the last one sent;
* a commit also compares the active alarms with those seen before: a new one,
  a new acknowledgement or one that cleared is queued as an ``alarm`` event;
* a kiosk outcome is queued as a ``kiosk`` event;
* with nothing to send for ``ping_interval_s`` a ``: ping`` comment keeps
  proxies and the browser from dropping the connection.

A client that does not read (its queue full) loses kiosk and alarm events,
never the locker: the queue is bounded. ``close()`` (at shutdown) ends every
generator so the server can stop without waiting for the browsers.

At most ``MAX_STREAMS`` clients at once (limits.py): ``admit()`` counts a client
from the moment its request is answered (before its generator first runs, so
a burst of requests cannot all pass the check) until its generator ends, or
is dropped without ever running (a client gone before the first byte).
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any

from locker_host.app import KioskOutcome
from locker_host.domain import active_alarms

from .context import ApiContext
from .limits import MAX_STREAMS
from .views import alarm_dict, iso

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 256


def sse(event: str, data: Any) -> bytes:
    # json.dumps never emits a raw newline, so the data is one `data:` line.
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class _Client:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_LIMIT)
        self.stale = False
        self.wake = asyncio.Event()
        self.dropped = 0

    def put(self, chunk: bytes) -> None:
        try:
            self.queue.put_nowait(chunk)
        except asyncio.QueueFull:
            self.dropped += 1
        self.wake.set()

    def mark_stale(self) -> None:
        self.stale = True
        self.wake.set()


class StreamHub:
    def __init__(self, context: ApiContext) -> None:
        self._context = context
        self._clients: set[_Client] = set()
        self._closed = False
        self._alarms = {a.alarm_id: a for a in active_alarms(context.service.state)}
        self._removers: list[Callable[[], None]] = [
            context.service.add_listener(self._committed),
            context.kiosk.add_listener(self._kiosk),
        ]

    @property
    def clients(self) -> int:
        return len(self._clients)

    def close(self) -> None:
        for remove in self._removers:
            remove()
        self._removers = []
        self._closed = True
        for client in self._clients:
            client.wake.set()

    # -- listeners (on the event loop, quick, never raise) --------------------------------

    def _committed(self) -> None:
        for client in self._clients:
            client.mark_stale()
        now = {a.alarm_id: a for a in active_alarms(self._context.service.state)}
        changes: list[bytes] = []
        for alarm_id, alarm in now.items():
            before = self._alarms.get(alarm_id)
            if before is None or before.acknowledged != alarm.acknowledged:
                changes.append(sse("alarm", alarm_dict(alarm)))
        for alarm_id, alarm in self._alarms.items():
            if alarm_id not in now:
                changes.append(sse("alarm", alarm_dict(alarm, active=False)))
        self._alarms = now
        self._broadcast(changes)

    def _kiosk(self, outcome: KioskOutcome) -> None:
        event = {
            "source": outcome.source,
            "action": outcome.action,
            "reply": outcome.reply.to_json(),
            "at": iso(outcome.at_wall_s),
        }
        self._broadcast([sse("kiosk", event)])

    def _broadcast(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            for client in self._clients:
                client.put(chunk)

    # -- one client -----------------------------------------------------------------

    def admit(self) -> AsyncIterator[bytes] | None:
        """A new client's stream, or None when ``MAX_STREAMS`` are open already."""
        if len(self._clients) >= MAX_STREAMS:
            return None
        client = _Client()
        self._clients.add(client)
        stream = self._events(client)
        # A generator that never ran has no finally to run: count it out when it goes.
        weakref.finalize(stream, self._clients.discard, client)
        return stream

    async def _events(self, client: _Client) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        interval = self._context.state_interval_s
        try:
            yield sse("state", await self._context.service.snapshot())
            sent_at = loop.time()
            while not self._closed:
                # Cleared before looking: whatever arrives after the look wakes the wait.
                client.wake.clear()
                if not client.queue.empty():
                    yield client.queue.get_nowait()
                    continue
                timeout = self._context.ping_interval_s
                if client.stale:
                    timeout = sent_at + interval - loop.time()
                    if timeout <= 0:
                        client.stale = False
                        yield sse("state", await self._context.service.snapshot())
                        sent_at = loop.time()
                        continue
                woke = await _wait(client.wake, timeout)
                if not woke and not client.stale:
                    yield b": ping\n\n"
        finally:
            self._clients.discard(client)


async def _wait(event: asyncio.Event, timeout: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True
