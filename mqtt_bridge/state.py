"""Retained ``status``, ``state`` and per-board status: published on change, and in full
after every (re)connect and on ``republish`` (Sparkplug's rebirth).

The snapshot comes from the port (``LockerService.snapshot()``: no personal
data). It is compared with the last one published; a board's status only
when it changed. A board that left the layout gets its retained message
cleared (an empty retained payload, MQTT 5 section 3.3.1.3).

The outbox is watched here too: the backlog and the age of the oldest
unacknowledged event become alarms (``outbox_backlog``, ``outbox_stale``) on
``status`` and in the statistics, long before the store's retention bound
starts dropping events (``dropped_total``, also on ``status``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from . import messages
from .context import BridgeContext
from .link import Link, json_properties
from .port import JsonDict, OutboxStats
from .waiting import wait_for_event

log = logging.getLogger("mqtt_bridge.state")


class StatePublisher:
    def __init__(self, context: BridgeContext) -> None:
        self._config = context.config
        self._topics = context.topics
        self._port = context.port
        self._stats = context.stats
        self._online = context.online
        self._wall = context.wall
        self._software = context.software
        self._boot_id = context.boot_id
        self._link: Link | None = None
        self._force = True
        self._wake = asyncio.Event()
        self._state: Mapping[str, Any] | None = None
        self._boards: dict[str, str] = {}
        self._status: JsonDict | None = None
        self._properties = json_properties()

    def attach(self, link: Link) -> None:
        self._link = link

    def republish(self) -> None:
        self._force = True
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._online.wait()
            self._wake.clear()
            try:
                snapshot = await self._port.snapshot()
                outbox = await self._port.outbox_stats()
            except Exception as exc:
                self._stats.port_errors += 1
                self._stats.last_error = f"snapshot: {exc!r}"
                log.exception("reading the snapshot failed")
                await self._idle()
                continue
            summary = self._watch_outbox(outbox)
            if self._online.is_set():
                force, self._force = self._force, False
                self._publish(snapshot, summary, force=force)
            await self._idle()

    def _publish(self, snapshot: Mapping[str, Any], summary: JsonDict, *, force: bool) -> None:
        now, boot_id = self._wall(), self._boot_id
        if force or summary != self._status:
            status = messages.status_online(
                self._topics, boot_id=boot_id, software=self._software, at=now, outbox=summary
            )
            self._retain(self._topics.status, messages.encode(status))
            self._status = summary
        if force or snapshot != self._state:
            self._retain(self._topics.state, messages.encode(messages.state(snapshot, at=now)))
            self._state = snapshot
        boards = {str(k): str(v) for k, v in dict(snapshot.get("boards", {})).items()}
        for board, board_status in boards.items():
            if force or self._boards.get(board) != board_status:
                body = messages.board_status(
                    self._topics, board, board_status, boot_id=boot_id, at=now
                )
                self._retain(self._topics.board_status(board), messages.encode(body))
        for gone in set(self._boards) - set(boards):
            self._retain(self._topics.board_status(gone), b"")
        self._boards = boards

    def _retain(self, topic: str, payload: bytes) -> None:
        assert self._link is not None
        self._link.publish(topic, payload, retain=True, properties=self._properties)

    def _watch_outbox(self, outbox: OutboxStats) -> JsonDict:
        age_s = None
        if outbox.oldest_pending_at is not None:
            now = datetime.fromtimestamp(self._wall(), UTC)
            age_s = max((now - outbox.oldest_pending_at).total_seconds(), 0.0)
        alarms = []
        if outbox.pending >= self._config.outbox_alarm_pending:
            alarms.append("outbox_backlog")
        if age_s is not None and age_s >= self._config.outbox_alarm_age_s:
            alarms.append("outbox_stale")
        if outbox.dropped_total > self._stats.outbox_dropped_total:
            log.error("the outbox retention bound dropped events: %d in all", outbox.dropped_total)
        for alarm in set(alarms) - set(self._stats.alarms):
            log.warning(
                "alarm %s: %d events wait for an ack, the oldest for %s s",
                alarm,
                outbox.pending,
                None if age_s is None else round(age_s),
            )
        self._stats.outbox_head_seq = outbox.head_seq
        self._stats.outbox_acked_seq = outbox.acked_seq
        self._stats.outbox_pending = outbox.pending
        self._stats.outbox_oldest_age_s = age_s
        self._stats.outbox_dropped_total = outbox.dropped_total
        self._stats.alarms = tuple(alarms)
        return messages.outbox_summary(outbox, alarms)

    async def _idle(self) -> None:
        await wait_for_event(self._wake, self._config.poll_interval_s)
