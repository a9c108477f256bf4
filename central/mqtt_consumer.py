"""One consumer process on an MQTT 5 broker (Mosquitto 2.0, EMQX, HiveMQ, ...): the
same work as ``consumer.Consumer`` on RabbitMQ, with the events shared among the
processes by an MQTT shared subscription instead of a quorum queue.

Every process subscribes ``$share/central/lockers/v1/+/+/events`` (QoS 1): the broker
hands each event to one member of the group ``central``. Each process has its own
persistent session (client id ``central-<name>``, Clean Start off, a session expiry of
``SESSION_EXPIRY_S``) and acknowledges a delivery (its PUBACK) only after the event is
committed in PostgreSQL (paho's ``manual_ack``).

Failures, and what each costs:

* PostgreSQL fails a transaction: the delivery is not acknowledged; we disconnect,
  wait and connect again with the same session, and the broker sends the unacknowledged
  delivery again (MQTT 5 section 4.4);
* the broker connection drops: the same, on the next broker of the list;
* the process is killed: the deliveries in flight to it stay in its session, sent again
  when a process of the same ``--name`` connects (within the session expiry). Where a
  broker gives them to another member instead, or none comes back, the lockers send
  what is not acknowledged again when their acks stall (``resend_unacked_after_s``):
  later, never lost.

Acks to the lockers are published to ``lockers/v1/{site}/{locker}/events/ack`` (QoS 1),
gathered and de-duplicated as on RabbitMQ (``consumer.Acks``).
"""

from __future__ import annotations

import contextlib
import logging

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from . import topics
from .consumer import ACK_FLUSH_S, Consumer

log = logging.getLogger("central.mqtt_consumer")

GROUP = "central"
SHARED_EVENTS = f"$share/{GROUP}/{topics.PREFIX}/+/+/events"
SESSION_EXPIRY_S = 3600
KEEPALIVE_S = 10


class MqttConsumer(Consumer):
    _database_error: psycopg.Error | None = None  # a failed transaction, raised by the loop
    _attempts = 0  # each connection attempt goes to the next broker of the list

    def _consume(self) -> None:
        self._store.conn  # noqa: B018 - fail here, before taking deliveries, when the DB is down
        host, port = self._brokers[self._attempts % len(self._brokers)]
        self._attempts += 1
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"central-{self._name}",
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.on_message = self._on_mqtt_message
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        client.connect(host, port, KEEPALIVE_S, clean_start=False, properties=properties)
        self.stats.broker_connects += 1
        self._acks.forget_published()
        self._database_error = None
        try:
            client.subscribe(SHARED_EVENTS, qos=1)
            log.info("%s consuming %s on %s:%s", self._name, SHARED_EVENTS, host, port)
            while not self._stopping:
                code = client.loop(timeout=ACK_FLUSH_S)
                if self._database_error is not None:
                    raise self._database_error
                if code != mqtt.MQTT_ERR_SUCCESS:
                    raise ConnectionError(f"MQTT connection lost: {mqtt.error_string(code)}")
                self._flush_mqtt_acks(client)
            self._flush_mqtt_acks(client)
            client.loop(timeout=ACK_FLUSH_S)
        finally:
            with contextlib.suppress(Exception):
                client.disconnect()

    def _on_mqtt_message(
        self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        if self._database_error is not None:
            return  # not acknowledged: sent again on the next connection
        self.stats.received += 1
        try:
            result = self.handle(topics.routing_key(message.topic), bytes(message.payload))
        except psycopg.Error as exc:
            self._database_error = exc
            return
        self._note_prefix(result)
        client.ack(message.mid, message.qos)
        if self.stats.received % 200 == 0:
            self._write_statistics()

    def _flush_mqtt_acks(self, client: mqtt.Client) -> None:
        for topic, ack in self._due_acks():
            client.publish(topic, ack, qos=1)
