"""The outbox pump: events to ``events`` at QoS 1, in seq order, until the centre acks them.

Delivery rules (shared/notes/reliability-security.md 4.2):

* A PUBACK only means the broker holds the event in memory; a broker killed
  with ``kill -9`` before its next autosave loses it. So an event leaves the
  outbox only on the central system's cumulative ``events/ack`` (``boot_id``
  + ``seq``), never on PUBACK.
* The pump keeps a cursor (the last seq published in this pass) and sends
  rows with a greater seq, oldest first, with at most ``events_in_flight``
  not yet PUBACKed (paho's in-memory queue stays small) and at most
  ``events_ahead_of_ack`` beyond the centre's last ack (the broker's queue for
  the consumer does not overflow and drop events).
* A new pass starts from the oldest unacknowledged event (cursor 0: the
  outbox only holds unacknowledged rows) after every (re)connect, on a
  ``replay`` (from its ``seq``), and when acks have not moved for
  ``resend_unacked_after_s``. Consumers therefore see duplicates, always
  with the seq and event_id of the original, and drop ``seq <= last``.
* A pass of our own sends again what it had sent before with at most
  ``resend_window`` beyond the last ack after a reconnect, and only the oldest
  unacknowledged event when acks stalled (a probe), not ``events_ahead_of_ack``:
  the central system most likely holds those events already (it lost an ack,
  or is slow), and the oldest one is enough to learn where it stands, since
  its cumulative ack answers a duplicate too. When it did miss them, its acks
  move and the pass goes on, ``resend_window`` beyond each ack. Without this,
  after a broker restart every locker of a fleet sends its whole backlog
  again, and again whenever acks stall while the consumers work through the
  first copy: the duplicates outgrow the events (seen at 1,000 lockers: three
  duplicates per stored event and the reconnect storm not over in 60 s; with
  windows of 10 at each stall, still three to one). Events never sent, and a
  ``replay`` the central system asked for, go out with the full window.
* How often acks stall is bounded too: each stall resend that brings no ack
  doubles the wait before the next (``resend_unacked_after_s``, then twice,
  four times, at most ``STALL_BACKOFF_MAX`` times it), each but the first with
  up to a quarter added at random so that lockers stalled together drift apart;
  any ack that moves, or a ``replay``, starts again from
  ``resend_unacked_after_s``. With the consumers far behind, a fleet resending
  at a fixed pace fed their queue faster than they drained it (docs/fleet.md,
  the long profile).
* While the link is down nothing is published: events wait in SQLite, not in
  paho's memory.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque

import paho.mqtt.client as mqtt

from . import messages
from .context import BridgeContext
from .link import Link, json_properties
from .port import PendingEvent
from .waiting import wait_for_event

log = logging.getLogger("mqtt_bridge.events")

# The wait before a stall resend doubles up to this many times resend_unacked_after_s.
STALL_BACKOFF_MAX = 8
STALL_JITTER = 0.25  # up to this share of the wait added at random


class EventPump:
    def __init__(self, context: BridgeContext) -> None:
        self._config = context.config
        self._topics = context.topics
        self._port = context.port
        self._stats = context.stats
        self._online = context.online
        self._monotonic = context.monotonic
        self._link: Link | None = None
        self._cursor = 0
        # A pass of our own sends again, within _resend_limit of the ack, up to here.
        self._sent_before = 0
        self._resend_limit = self._config.resend_window  # 1 after a stall until an ack
        self._epoch = 0  # a new pass or a lost link invalidates a batch read before it
        self._acked_seq = 0
        self._know_acked = False  # read the store's acked_seq before the next pass
        self._last_progress = self._monotonic()
        # The wait before a stall resend: resend_unacked_after_s, doubled (plus jitter)
        # after each stall resend until an ack moves.
        self._stall_step = self._config.resend_unacked_after_s
        self._stall_wait = self._stall_step
        self._in_flight: deque[mqtt.MQTTMessageInfo] = deque()
        self._room = asyncio.Event()
        self._wake = asyncio.Event()
        self._properties = json_properties()

    # -- told by the bridge ---------------------------------------------------------

    def attach(self, link: Link) -> None:
        self._link = link

    def restart_pass(self, from_seq: int = 1, *, asked: bool = False, probe: bool = False) -> None:
        """Send again everything unacknowledged from ``from_seq`` on: with the full window
        when the central system ``asked`` (a replay), else within ``resend_window`` of the
        last ack up to what was sent before, or only the oldest until an ack moves when
        this is a ``probe`` (stalled acks; the module's docstring says why)."""
        self._sent_before = 0 if asked else max(self._sent_before, self._cursor)
        self._resend_limit = 1 if probe else self._config.resend_window
        self._cursor = min(self._cursor, from_seq - 1)
        self._know_acked = False
        self._epoch += 1
        self._last_progress = self._monotonic()
        if asked:
            self._stall_backoff_reset()
        self._in_flight.clear()  # paho re-sends those itself; do not wait for them
        self._stats.resend_passes += 1
        self.wake()

    def link_lost(self) -> None:
        self._epoch += 1
        self._room.set()

    def acked(self, seq: int) -> None:
        if seq > self._acked_seq:
            self._acked_seq = seq
            self._last_progress = self._monotonic()
            self._stall_backoff_reset()
            self._resend_limit = self._config.resend_window
            self._room.set()

    def puback(self) -> None:
        self._room.set()

    def wake(self) -> None:
        self._wake.set()

    # -- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            await self._online.wait()
            self._resend_if_stuck()
            epoch = self._epoch
            self._wake.clear()
            try:
                if not self._know_acked:
                    stats = await self._port.outbox_stats()
                    self._acked_seq = max(self._acked_seq, stats.acked_seq)
                    self._know_acked = True
                rows = await self._port.pending_events(
                    after_seq=self._cursor, limit=self._config.events_batch
                )
            except Exception as exc:
                self._stats.port_errors += 1
                self._stats.last_error = f"pending_events: {exc!r}"
                log.exception("reading the outbox failed")
                await self._idle()
                continue
            if epoch != self._epoch:
                continue
            if not rows:
                await self._idle()
                continue
            for row in rows:
                if not await self._wait_for_room(epoch):
                    break
                if row.seq <= self._acked_seq:  # acked while this batch waited for room
                    continue
                self._publish(row)

    def _publish(self, row: PendingEvent) -> None:
        assert self._link is not None
        payload = messages.encode(messages.event(self._topics, row))
        info = self._link.publish(self._topics.events, payload, properties=self._properties)
        self._in_flight.append(info)
        self._cursor = row.seq
        self._stats.events_published += 1

    async def _wait_for_room(self, epoch: int) -> bool:
        """False when the pass was invalidated (link lost, new pass) while waiting."""
        while True:
            while self._in_flight and self._in_flight[0].is_published():
                self._in_flight.popleft()
            if epoch != self._epoch or not self._online.is_set():
                return False
            ahead = self._cursor - self._acked_seq
            window = (
                self._resend_limit
                if self._cursor < self._sent_before
                else self._config.events_ahead_of_ack
            )
            if len(self._in_flight) < self._config.events_in_flight and ahead < window:
                return True
            self._room.clear()
            # PUBACKs and acks arrive through the dispatcher; the timeout covers a PUBACK
            # counted before its message was queued here (paho issue #482) and lets
            # _resend_if_stuck look at stalled acks.
            await wait_for_event(self._room, self._config.poll_interval_s)
            if ahead >= window:
                self._resend_if_stuck()

    async def _idle(self) -> None:
        await wait_for_event(self._wake, self._config.poll_interval_s)

    def _stall_backoff_reset(self) -> None:
        self._stall_step = self._stall_wait = self._config.resend_unacked_after_s

    def _resend_if_stuck(self) -> None:
        base, step, after = self._config.resend_unacked_after_s, self._stall_step, self._stall_wait
        if base is None or step is None or after is None or self._cursor <= self._acked_seq:
            return
        if self._monotonic() - self._last_progress >= after:
            log.info("no ack for %.0f s: sending the oldest unacknowledged event again", after)
            self.restart_pass(probe=True)
            self._stall_step = min(step * 2, base * STALL_BACKOFF_MAX)
            self._stall_wait = self._stall_step * (1 + STALL_JITTER * random.random())
            self._stats.stall_resends += 1
