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
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import signal
import time
from collections.abc import Sequence
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


@dataclass
class ConsumerStatistics:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    unknown_locker: int = 0
    conflicts: int = 0
    invalid: int = 0
    acks_published: int = 0
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
        try:
            channel = connection.channel()
            channel.confirm_delivery()  # an ack we publish is on the broker before we go on
            declare(channel)
            channel.basic_qos(prefetch_count=PREFETCH)
            channel.basic_consume(QUEUE, self._on_message)
            log.info("%s consuming %s", self._name, QUEUE)
            while not self._stopping:
                connection.process_data_events(time_limit=0.5)
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
        result = self._handle(method.routing_key, body)
        if result.acked_seq > 0 and result.outcome in (
            EventOutcome.STORED,
            EventOutcome.DUPLICATE,
        ):
            self._publish_ack(channel, result)
        channel.basic_ack(method.delivery_tag)
        if self.stats.received % 200 == 0:
            self._write_statistics()

    def _handle(self, key: str, body: bytes) -> Stored:
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
        result = self._store.store_event(event)  # psycopg.Error: up to run()
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

    def _publish_ack(self, channel: BlockingChannel, result: Stored) -> None:
        assert result.site is not None and result.locker is not None
        ack = {"boot_id": result.acked_boot_id, "seq": result.acked_seq}
        channel.basic_publish(
            topics.EXCHANGE,
            topics.routing_key(topics.locker_topic(result.site, result.locker, "events/ack")),
            json.dumps(ack).encode(),
            BasicProperties(content_type="application/json", delivery_mode=2),
        )
        self.stats.acks_published += 1

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
