"""The central system's side, for tests: a paho client whose messages land on asyncio.

Every message it receives on a locker's topics is checked against the
contract (``contract.py``) as it arrives; the ``contract`` fixture fails the
test on any violation.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from mqtt_bridge import TlsFiles, Topics

from .contract import Contract

_ids = itertools.count(1)


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    correlation: bytes | None
    expiry: int | None

    def json(self) -> Any:
        return json.loads(self.payload)


class Central:
    def __init__(
        self,
        port: int,
        *,
        contract: Contract | None = None,
        client_id: str | None = None,
        v5: bool = True,
        session_expiry_s: int = 0,
        username: str | None = None,
        password: str | None = None,
        tls: TlsFiles | None = None,
    ) -> None:
        self.port = port
        self.contract = contract
        self.client_id = client_id or f"central-{next(_ids)}"
        self.v5 = v5
        self._session_expiry_s = session_expiry_s
        self.received: list[Message] = []
        self._unread: list[Message] = []
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()
        self._connack: asyncio.Future[tuple[bool, ReasonCode]] | None = None
        self._subacks: dict[int, asyncio.Future[list[ReasonCode]]] = {}
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else session_expiry_s == 0,
        )
        if username is not None:
            client.username_pw_set(username, password)
        if tls is not None:
            client.tls_set(
                ca_certs=str(tls.ca_file),
                certfile=None if tls.cert_file is None else str(tls.cert_file),
                keyfile=None if tls.key_file is None else str(tls.key_file),
                cert_reqs=ssl.CERT_REQUIRED,
            )
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        self.refused: list[str] = []  # PUBACK reason codes that were failures (MQTT 5)
        self.client = client

    # -- connection -----------------------------------------------------------------

    async def connect(self, timeout: float = 10.0) -> bool:
        """Connect and return whether the broker still had our session."""
        self._connack = self._loop.create_future()
        try:
            if self.v5:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = self._session_expiry_s
                self.client.connect("127.0.0.1", self.port, clean_start=False, properties=props)
            else:
                self.client.connect("127.0.0.1", self.port)
            self.client.loop_start()
            session_present, reason = await asyncio.wait_for(self._connack, timeout)
            if reason.is_failure:
                raise ConnectionRefusedError(str(reason))
        except BaseException:
            await self.close()
            raise
        return session_present

    async def close(self) -> None:
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)
        sock = self.client.socket()
        if sock is not None:  # a TLS handshake refused after connect() returned
            sock.close()

    async def subscribe(self, *filters: str, qos: int = 1) -> list[ReasonCode]:
        result, mid = self.client.subscribe([(f, qos) for f in filters])
        assert result == mqtt.MQTT_ERR_SUCCESS
        future = self._subacks.setdefault(mid, self._loop.create_future())
        return await asyncio.wait_for(future, 10)

    # -- sending ------------------------------------------------------------------------

    async def publish(
        self,
        topic: str,
        payload: bytes | dict[str, Any],
        *,
        qos: int = 1,
        retain: bool = False,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        expiry_s: int | None = None,
    ) -> mqtt.MQTTMessageInfo:
        if isinstance(payload, dict):
            payload = json.dumps(payload).encode()
        props = None
        if self.v5:
            props = Properties(PacketTypes.PUBLISH)
            if response_topic is not None:
                props.ResponseTopic = response_topic
            if correlation is not None:
                props.CorrelationData = correlation
            if expiry_s is not None:
                props.MessageExpiryInterval = expiry_s
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if qos:
            await asyncio.to_thread(info.wait_for_publish, 10)
        return info

    async def request(
        self, topics: Topics, name: str, payload: bytes | dict[str, Any], *, timeout: float = 10
    ) -> dict[str, Any]:
        """One command, its reply (the caller subscribed to ``topics.reply`` + ``/#``)."""
        if not self.v5:
            # Matched by command_id; null in a reply when the locker could not read one
            # (oversized, not JSON): one request at a time pairs those too.
            await self.publish(topics.command(name), payload)
            wanted = _command_id(payload)
            reply = await self.receive(
                lambda m: m.topic == topics.reply and m.json()["command_id"] in (wanted, None),
                timeout,
            )
            return dict(reply.json())
        correlation = uuid.uuid4().bytes
        response_topic = f"{topics.reply}/{self.client_id}"
        await self.publish(
            topics.command(name), payload, response_topic=response_topic, correlation=correlation
        )
        reply = await self.receive(
            lambda m: m.topic == response_topic and m.correlation == correlation, timeout
        )
        return dict(reply.json())

    # -- receiving ----------------------------------------------------------------------

    async def receive(
        self, predicate: Callable[[Message], bool] = lambda m: True, timeout: float = 10
    ) -> Message:
        """The first unread message that matches (the others stay unread)."""
        deadline = self._loop.time() + timeout
        while True:
            for index, message in enumerate(self._unread):
                if predicate(message):
                    del self._unread[index]
                    return message
            self._arrived.clear()
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{self.client_id}: no matching message within {timeout} s")
            # asyncio.timeout, not wait_for: see mqtt_bridge/waiting.py (gh-86296).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()

    def forget_unread(self, predicate: Callable[[Message], bool] = lambda m: True) -> None:
        """Drop the unread messages that match (all of them by default)."""
        self._unread = [m for m in self._unread if not predicate(m)]

    def unread(self, predicate: Callable[[Message], bool] = lambda m: True) -> list[Message]:
        return [m for m in self._unread if predicate(m)]

    # -- paho's thread ----------------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if self._connack is not None:
            result = (bool(flags.session_present), reason_code)
            self._loop.call_soon_threadsafe(_settle, self._connack, result)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        def settle() -> None:
            _settle(self._subacks.setdefault(mid, self._loop.create_future()), reason_codes)

        self._loop.call_soon_threadsafe(settle)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.refused.append(str(reason_code))

    def _on_message(self, client, userdata, msg) -> None:
        props = msg.properties
        correlation = getattr(props, "CorrelationData", None)
        message = Message(
            topic=msg.topic,
            payload=bytes(msg.payload),
            qos=msg.qos,
            retain=bool(msg.retain),
            dup=bool(msg.dup),
            correlation=None if correlation is None else bytes(correlation),
            expiry=getattr(props, "MessageExpiryInterval", None),
        )
        self._loop.call_soon_threadsafe(self._arrive, message)

    def _arrive(self, message: Message) -> None:
        if self.contract is not None:
            self.contract.check_published(message.topic, message.payload)
        self.received.append(message)
        self._unread.append(message)
        self._arrived.set()


def _command_id(payload: bytes | dict[str, Any]) -> Any:
    if isinstance(payload, bytes):
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError):
            return None
    return payload.get("command_id") if isinstance(payload, dict) else None


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)
