"""Commands to lockers over AMQP, and their replies (MQTT 3.1.1: on ``reply``, matched by
``command_id``).

A command is published into ``amq.topic`` with the routing key of
``lockers/v1/{site}/{locker}/cmd/{name}``, persistent: RabbitMQ puts it in the
locker's session queue (a quorum queue, ``mqtt.durable_queue_type = quorum``), which
keeps it while the locker is away or its node dies. The locker de-duplicates by
``command_id`` and refuses what is past ``expires_at``, so a sender that got no
reply sends the same command again, with the same ``command_id``, and it is done
once. Replies of every locker land in this sender's own quorum queue
(``central.replies.{name}``, bound to ``lockers.v1.*.*.reply``); the sender keeps
those whose ``command_id`` it sent.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from . import topics
from .consumer import connection_parameters


class CommandSender:
    def __init__(self, brokers: Sequence[tuple[str, int]], *, name: str) -> None:
        self._brokers = list(brokers)
        self._queue = f"central.replies.{name}"
        self._connection: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self.sent: set[str] = set()
        self.replies: dict[str, list[dict[str, Any]]] = {}

    def connect(self) -> None:
        self.close()
        connection = pika.BlockingConnection(connection_parameters(self._brokers))
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(self._queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(self._queue, topics.EXCHANGE, routing_key=topics.binding("reply"))
        self._connection, self._channel = connection, channel

    def close(self) -> None:
        """Also after the node died under us: the connection is gone either way."""
        if self._connection is not None and self._connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError, OSError):
                self._connection.close()
        self._connection = self._channel = None

    def send(
        self, site: str, locker: str, name: str, payload: dict[str, Any], *, within_s: float = 60.0
    ) -> None:
        """Published and confirmed by the broker, trying again once a second for up to
        ``within_s``; then pika's error is the caller's. What is tried again: a lost
        connection (made again, on any node), and a refusal: right after a node dies,
        RabbitMQ nacks a message for a quorum queue whose leader was on that node until
        another member is elected. Sending again is safe: the same ``command_id`` is
        done once."""
        deadline = time.monotonic() + within_s
        while True:
            try:
                self._publish(site, locker, name, payload)
                break
            except (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError):
                self.close()  # connected again, to any node, on the next try
                if time.monotonic() >= deadline:
                    raise
            except (pika.exceptions.NackError, pika.exceptions.UnroutableError):
                if time.monotonic() >= deadline:
                    raise
            time.sleep(1.0)
        self.sent.add(str(payload["command_id"]))

    def _publish(self, site: str, locker: str, name: str, payload: dict[str, Any]) -> None:
        if self._channel is None:
            self.connect()
        assert self._channel is not None
        self._channel.basic_publish(
            topics.EXCHANGE,
            topics.routing_key(topics.locker_topic(site, locker, f"cmd/{name}")),
            json.dumps(payload).encode(),
            pika.BasicProperties(content_type="application/json", delivery_mode=2),
            mandatory=True,
        )

    def collect(self, timeout_s: float = 1.0) -> int:
        """Take the replies waiting in our queue; how many were ours."""
        if self._channel is None:
            self.connect()
        assert self._channel is not None
        ours = 0
        for method, _, body in self._channel.consume(
            self._queue, inactivity_timeout=timeout_s, auto_ack=False
        ):
            if method is None:
                break
            reply = json.loads(body)
            command_id = reply.get("command_id")
            if command_id in self.sent:
                self.replies.setdefault(command_id, []).append(reply)
                ours += 1
            self._channel.basic_ack(method.delivery_tag)
        self._channel.cancel()
        return ours
