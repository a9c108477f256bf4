"""A blocking MQTT session for lockerctl: connect, subscribe, publish, wait for messages.

paho's thread fills a ``queue.Queue``; the command line reads it with
timeouts. Nothing here is shared with the bridge: a tool may block.
"""

from __future__ import annotations

import json
import queue
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mqtt_bridge.config import TlsFiles
from mqtt_bridge.topics import Topics


class SessionError(Exception):
    """The broker cannot be reached, refused us, or did not answer in time."""


@dataclass(frozen=True)
class Options:
    host: str = "localhost"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: TlsFiles | None = None
    mqtt311: bool = False
    timeout_s: float = 10.0


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    correlation: bytes | None


class Session:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.client_id = f"lockerctl-{uuid.uuid4().hex[:12]}"
        self._inbox: queue.Queue[Received] = queue.Queue()
        self._put_back: list[Received] = []
        self._reply_topics: set[str] = set()
        self._acks: queue.Queue[tuple[str, Any]] = queue.Queue()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv311 if options.mqtt311 else mqtt.MQTTv5,
        )
        if options.username is not None:
            client.username_pw_set(options.username, options.password)
        if options.tls is not None:
            tls = options.tls
            client.tls_set(
                ca_certs=str(tls.ca_file),
                certfile=None if tls.cert_file is None else str(tls.cert_file),
                keyfile=None if tls.key_file is None else str(tls.key_file),
                cert_reqs=ssl.CERT_REQUIRED,
            )
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._client = client

    def __enter__(self) -> Session:
        try:
            self._client.connect(self.options.host, self.options.port, keepalive=30)
        except OSError as exc:
            raise SessionError(
                f"cannot reach {self.options.host}:{self.options.port}: {exc}"
            ) from None
        self._client.loop_start()
        _, reason = self._wait_ack("connack")
        if reason.is_failure:
            self.close()
            raise SessionError(f"the broker refused the connection: {reason}")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    @property
    def v5(self) -> bool:
        return not self.options.mqtt311

    def subscribe(self, *filters: str) -> None:
        self._client.subscribe([(f, 1) for f in filters])
        _, codes = self._wait_ack("suback")
        refused = [str(code) for code in codes if code.is_failure]
        if refused:
            raise SessionError(f"subscription refused: {', '.join(refused)}")

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        expiry_s: int | None = None,
    ) -> None:
        props = None
        if self.v5:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.PayloadFormatIndicator = 1
            props.ContentType = "application/json"
            if response_topic is not None:
                props.ResponseTopic = response_topic
            if correlation is not None:
                props.CorrelationData = correlation
            if expiry_s is not None:
                props.MessageExpiryInterval = max(expiry_s, 1)
        info = self._client.publish(topic, payload, qos=1, properties=props)
        info.wait_for_publish(self.options.timeout_s)
        if not info.is_published():
            raise SessionError(f"the broker did not acknowledge the publish to {topic}")

    def receive(self, timeout_s: float) -> Received | None:
        if self._put_back:
            return self._put_back.pop(0)
        try:
            return self._inbox.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def request(
        self, topics: Topics, name: str, payload: dict[str, Any], *, expiry_s: int
    ) -> dict[str, Any] | None:
        """Send one command and wait for its reply (None: none in time). Other messages
        that arrive meanwhile are kept for ``receive``."""
        reply_topic = f"{topics.reply}/{self.client_id}" if self.v5 else topics.reply
        if reply_topic not in self._reply_topics:
            self.subscribe(reply_topic)
            self._reply_topics.add(reply_topic)
        correlation = uuid.uuid4().bytes
        self.publish(
            topics.command(name),
            json.dumps(payload, ensure_ascii=False).encode(),
            response_topic=reply_topic if self.v5 else None,
            correlation=correlation if self.v5 else None,
            expiry_s=expiry_s,
        )
        others: list[Received] = []
        deadline = time.monotonic() + self.options.timeout_s
        try:
            while (left := deadline - time.monotonic()) > 0:
                message = self.receive(left)
                if message is None:
                    return None
                if message.topic == reply_topic:
                    reply = load_object(message.payload)
                    if (
                        message.correlation == correlation
                        if self.v5
                        else reply.get("command_id") == payload.get("command_id")
                    ):
                        return reply
                others.append(message)
            return None
        finally:
            self._put_back[:0] = others

    def drain(self, quiet_s: float) -> Iterator[Received]:
        """Everything that arrives until nothing has for ``quiet_s``."""
        while (message := self.receive(quiet_s)) is not None:
            yield message

    def _wait_ack(self, kind: str) -> tuple[str, Any]:
        try:
            got = self._acks.get(timeout=self.options.timeout_s)
        except queue.Empty:
            raise SessionError(
                f"no {kind} from the broker within {self.options.timeout_s} s"
            ) from None
        assert got[0] == kind, got
        return got

    # -- paho's thread: only queue puts, which cannot fail ---------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._acks.put(("connack", reason))

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        self._acks.put(("suback", codes))

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        correlation = getattr(msg.properties, "CorrelationData", None)
        self._inbox.put(
            Received(
                msg.topic,
                bytes(msg.payload),
                bool(msg.retain),
                None if correlation is None else bytes(correlation),
            )
        )


def load_object(payload: bytes) -> dict[str, Any]:
    """A JSON object, or {} for anything else (a tool shows what it can)."""
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
