"""One consumer process of the central system's events (see the package's docstring).

Any number of these run at once against the same queue and database: RabbitMQ hands
each delivery to one of them (competing consumers), PostgreSQL makes storing
idempotent and the per-locker prefix shared.

Failures, and what each costs:

* the broker node we are connected to dies, or the connection drops: the unacked
  deliveries go back to the queue (another consumer gets them); we connect to the
  next node in the list, with back-off;
* PostgreSQL is unreachable or fails a transaction: the delivery is not
  acknowledged; we close the AMQP connection (every unacked delivery goes back to the
  queue), wait, and start again;
* the process is killed: its unacked deliveries go back to the queue; events it
  stored but whose ack it did not publish are acked with the next event of the same
  locker, or when the locker sends them again.

Duplicates are cheap. A locker whose acks stall sends its oldest unacknowledged events
again, and after a broker restart a whole fleet does at once while the consumers are
still behind: at 1,000 lockers the duplicates outnumbered the events four to one
(docs/fleet.md). So each process remembers the ``event_id`` of the last
``REMEMBERED_EVENTS`` events it stored or found stored, with their seq, and each
locker's prefix as last read from the database: a duplicate it remembers, at or below
that prefix, is acknowledged without a database transaction. Acks to the lockers are
gathered, the highest prefix per locker, and published every ``ACK_FLUSH_S``, without
waiting for the broker's confirmation; one that this process published for the same
locker with the same seq less than ``ACK_REPEAT_S`` ago is not published again (a
locker's resend of ten events gets one ack, not ten). So a delivery may be acknowledged
to RabbitMQ before its locker's ack is published: a process killed in between has
stored the event, and the locker's resend is answered with the prefix.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import signal
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pika
import pika.exceptions
import psycopg
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from . import topics
from .store import EventOutcome, InvalidEvent, Store, Stored, parse_event

log = logging.getLogger("central.consumer")

QUEUE = "central.events"
PREFETCH = 50
RETRY_MIN_S = 0.5
RETRY_MAX_S = 10.0
REMEMBERED_EVENTS = 200_000  # event_ids known stored (about 30 MB)
ACK_REPEAT_S = 1.0  # the same ack to the same locker is not published again sooner
ACK_FLUSH_S = 0.2  # acks gathered per locker are published this often


@dataclass
class ConsumerStatistics:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    duplicates_remembered: int = 0  # of those, answered without a database transaction
    unknown_locker: int = 0
    conflicts: int = 0
    invalid: int = 0
    acks_published: int = 0
    acks_coalesced: int = 0  # replaced by a later prefix of the same locker before a flush
    acks_repeated_skipped: int = 0  # the same ack, published again less than ACK_REPEAT_S ago
    broker_connects: int = 0
    database_failures: int = 0


def connection_parameters(
    brokers: Sequence[tuple[str, int]], *, heartbeat_s: int = 10
) -> list[pika.ConnectionParameters]:
    """One entry per node, in a random order per process: consumers spread over nodes."""
    shuffled = list(brokers)
    random.shuffle(shuffled)
    return [
        pika.ConnectionParameters(
            host=host,
            port=port,
            heartbeat=heartbeat_s,
            blocked_connection_timeout=30,
            connection_attempts=1,
            socket_timeout=5,
        )
        for host, port in shuffled
    ]


def declare(channel: BlockingChannel) -> None:
    """The shared events queue: durable, quorum (Raft-replicated), bound to every locker."""
    channel.queue_declare(QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(QUEUE, topics.EXCHANGE, routing_key=topics.binding("events"))


LockerKey = tuple[str, str]  # (site, locker)


class Remembered:
    """What one consumer process knows is stored, so a duplicate costs no transaction.

    Stale is safe: another process may have stored more (the prefix here is lower than
    the database's), never less, since events are never deleted.
    """

    def __init__(self, capacity: int = REMEMBERED_EVENTS) -> None:
        self._capacity = capacity
        self._events: OrderedDict[str, tuple[LockerKey, int]] = OrderedDict()
        self._prefix: dict[LockerKey, tuple[int, str | None]] = {}

    def learn(self, event: dict[str, Any], result: Stored) -> None:
        """``event`` is in the database (stored now, or found there) with ``result``'s prefix."""
        key = (event["site"], event["locker"])
        self._events[event["event_id"]] = (key, event["seq"])
        self._events.move_to_end(event["event_id"])
        while len(self._events) > self._capacity:
            self._events.popitem(last=False)
        known = self._prefix.get(key)
        if known is None or result.acked_seq > known[0]:
            self._prefix[key] = (result.acked_seq, result.acked_boot_id)

    def duplicate(self, event: dict[str, Any]) -> Stored | None:
        """The answer to a duplicate known stored within the prefix known; else None."""
        key = (event["site"], event["locker"])
        if self._events.get(event["event_id"]) != (key, event["seq"]):
            return None
        acked_seq, acked_boot_id = self._prefix.get(key, (0, None))
        if event["seq"] > acked_seq:  # stored beyond a hole: the database may know better
            return None
        return Stored(EventOutcome.DUPLICATE, key[0], key[1], acked_seq, acked_boot_id)


class Acks:
    """The acks to publish to the lockers: per locker the highest prefix reached since the
    last flush (an ack per delivery would be one publish per event and duplicate), and
    not the same one again within ``window_s``."""

    def __init__(
        self, window_s: float = ACK_REPEAT_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._window_s = window_s
        self._clock = clock
        self._pending: dict[LockerKey, Stored] = {}
        self._last: dict[LockerKey, tuple[int, str | None, float]] = {}
        self.coalesced = 0  # replaced by a higher one of the same locker before a flush
        self.repeats_skipped = 0  # the same ack as one published less than window_s ago

    def add(self, result: Stored) -> None:
        """``result``'s prefix is committed in the database."""
        assert result.site is not None and result.locker is not None
        key = (result.site, result.locker)
        pending = self._pending.get(key)
        if pending is not None:
            self.coalesced += 1
            if pending.acked_seq >= result.acked_seq:
                return
        self._pending[key] = result

    def flush(self) -> list[Stored]:
        """What to publish now, each remembered as published now."""
        now, due = self._clock(), []
        for key, result in self._pending.items():
            last = self._last.get(key)
            if (
                last is not None
                and (last[0], last[1]) == (result.acked_seq, result.acked_boot_id)
                and now - last[2] < self._window_s
            ):
                self.repeats_skipped += 1
                continue
            self._last[key] = (result.acked_seq, result.acked_boot_id, now)
            due.append(result)
        self._pending.clear()
        return due

    def forget_published(self) -> None:
        """A new broker connection: what was published on the old one may be lost."""
        self._last.clear()


class Consumer:
    def __init__(
        self,
        brokers: Sequence[tuple[str, int]],
        dsn: str,
        *,
        name: str,
        statistics_path: Path | None = None,
    ) -> None:
        self._brokers = list(brokers)
        self._store = Store(dsn, name)
        self._name = name
        self._statistics_path = statistics_path
        self._stopping = False
        self._remembered = Remembered()
        self._acks = Acks()
        self.stats = ConsumerStatistics()

    def stop(self, *_: object) -> None:
        """Safe in a signal handler: the loop looks at the flag between its waits."""
        self._stopping = True

    def run(self) -> None:
        delay = RETRY_MIN_S
        while not self._stopping:
            try:
                self._consume()
                delay = RETRY_MIN_S
            except (pika.exceptions.AMQPError, OSError) as exc:
                log.warning("broker connection lost (%r); reconnecting in %.1f s", exc, delay)
            except psycopg.Error as exc:
                self.stats.database_failures += 1
                self._store.close()
                log.warning("database failed (%r); starting again in %.1f s", exc, delay)
            finally:
                self._write_statistics()
            if not self._stopping:
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
        self._store.close()

    def _consume(self) -> None:
        self._store.conn  # noqa: B018 - fail here, before taking deliveries, when the DB is down
        connection = pika.BlockingConnection(connection_parameters(self._brokers))
        self.stats.broker_connects += 1
        self._acks.forget_published()
        try:
            channel = connection.channel()
            declare(channel)
            channel.basic_qos(prefetch_count=PREFETCH)
            channel.basic_consume(QUEUE, self._on_message)
            log.info("%s consuming %s", self._name, QUEUE)
            while not self._stopping:
                connection.process_data_events(time_limit=ACK_FLUSH_S)
                self._flush_acks(channel)
            self._flush_acks(channel)
        finally:
            if connection.is_open:
                with contextlib.suppress(pika.exceptions.AMQPError):
                    connection.close()

    def _on_message(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        body: bytes,
    ) -> None:
        self.stats.received += 1
        self._note_prefix(self.handle(method.routing_key, body))
        channel.basic_ack(method.delivery_tag)
        if self.stats.received % 200 == 0:
            self._write_statistics()

    def handle(self, key: str, body: bytes) -> Stored:
        """One delivery on routing key ``key``: stored, or why not (the broker's part is
        the caller's: the ack to the locker, the ack of the delivery)."""
        where = topics.event_topic_parts(key)
        try:
            event = parse_event(body)
        except InvalidEvent as problem:
            self.stats.invalid += 1
            log.error("not an event on %s: %s; stored nothing", key, problem)
            return Stored(EventOutcome.INVALID, detail=str(problem))
        if where != (event["site"], event["locker"]):
            self.stats.invalid += 1
            log.error("event of %s/%s on %s; stored nothing", event["site"], event["locker"], key)
            return Stored(EventOutcome.INVALID, detail="topic and payload disagree")
        remembered = self._remembered.duplicate(event)
        if remembered is not None:
            self.stats.duplicates += 1
            self.stats.duplicates_remembered += 1
            return remembered
        result = self._store.store_event(event)  # psycopg.Error: up to run()
        if result.outcome in (EventOutcome.STORED, EventOutcome.DUPLICATE):
            self._remembered.learn(event, result)
        match result.outcome:
            case EventOutcome.STORED:
                self.stats.stored += 1
            case EventOutcome.DUPLICATE:
                self.stats.duplicates += 1
            case EventOutcome.UNKNOWN_LOCKER:
                self.stats.unknown_locker += 1
                log.warning(
                    "event seq %s from unknown locker %s/%s: stored nothing",
                    event["seq"],
                    result.site,
                    result.locker,
                )
            case EventOutcome.CONFLICT:
                self.stats.conflicts += 1
                log.error(
                    "locker %s/%s: %s; stored nothing", result.site, result.locker, result.detail
                )
            case EventOutcome.INVALID:
                self.stats.invalid += 1
        return result

    def _flush_acks(self, channel: BlockingChannel) -> None:
        """Publish the acks gathered since the last flush. Without publisher confirms: a
        lost ack costs only a resend of the locker's (answered with the prefix again), and
        waiting for the broker to confirm each one (into the locker's replicated session
        queue) made acks the consumer's bottleneck at 1,000 lockers."""
        for topic, ack in self._due_acks():
            channel.basic_publish(
                topics.EXCHANGE,
                topics.routing_key(topic),
                ack,
                BasicProperties(content_type="application/json", delivery_mode=2),
            )

    def _note_prefix(self, result: Stored) -> None:
        """A delivery handled: its locker's prefix, once committed, is to be acked."""
        if result.acked_seq > 0 and result.outcome in (
            EventOutcome.STORED,
            EventOutcome.DUPLICATE,
        ):
            self._acks.add(result)

    def _due_acks(self) -> list[tuple[str, bytes]]:
        """The acks to publish now, as (MQTT topic, payload), counted as published."""
        due = []
        for result in self._acks.flush():
            assert result.site is not None and result.locker is not None
            ack = {"boot_id": result.acked_boot_id, "seq": result.acked_seq}
            topic = topics.locker_topic(result.site, result.locker, "events/ack")
            due.append((topic, json.dumps(ack).encode()))
            self.stats.acks_published += 1
        self.stats.acks_coalesced = self._acks.coalesced
        self.stats.acks_repeated_skipped = self._acks.repeats_skipped
        return due

    def _write_statistics(self) -> None:
        if self._statistics_path is not None:
            temporary = self._statistics_path.with_suffix(".tmp")
            temporary.write_text(json.dumps(asdict(self.stats)))
            temporary.replace(self._statistics_path)


def install_signal_handlers(consumer: Consumer) -> None:
    signal.signal(signal.SIGTERM, consumer.stop)
    signal.signal(signal.SIGINT, consumer.stop)


def brokers_from(text: str) -> list[tuple[str, int]]:
    """``127.0.0.1:5672,127.0.0.1:5673`` -> [(host, port), ...]"""
    found: list[tuple[str, int]] = []
    for item in text.split(","):
        host, _, port = item.strip().rpartition(":")
        found.append((host or "127.0.0.1", int(port)))
    return found


def as_dict(stats: ConsumerStatistics) -> dict[str, Any]:
    return asdict(stats)
