"""paho-mqtt in its own network thread, every callback guarded, everything handed to asyncio.

Theory of operation (shared notes on paho 2.x pitfalls, paho issues #894, #704):

* paho runs ``loop_forever(retry_first_connection=True)`` in the thread that
  ``loop_start()`` creates, after ``connect_async()``: the first connection is
  retried like every later one, with paho's exponential back-off between
  ``reconnect_min_s`` and ``reconnect_max_s``.
* Callbacks run on that thread. They never block and never touch bridge
  state: each copies what it got into a small frozen value and hands it to
  the event loop with ``loop.call_soon_threadsafe``. Each is wrapped: an
  exception is logged, counted, and handed over as ``CallbackFailed``, so the
  bridge's ``run()`` fails loudly instead of the thread dying in silence and
  ``publish()`` going on "succeeding" into memory.
* ``_Client.loop_forever`` reports how the network loop ended (an exception
  in paho itself, or a return we did not ask for) as ``LoopEnded``.
* ``manual_ack``: a command's PUBACK is sent once it has been answered, and
  only on the connection it arrived on (``generation``): after a reconnect the
  broker redelivers it and the app's de-duplication answers it again.
* MQTT 5, clean start off, a session expiry: the broker queues commands while
  the locker is away (the commands carry a message expiry of their own). Or
  MQTT 3.1.1 (``protocol = "3.1.1"``), clean session off: the same queueing,
  for as long as the broker keeps sessions; no properties at all (no response
  topic, correlation data, message expiry, content type, subscription
  options, PUBACK reasons): ``publish`` drops what the parts pass.
* Where and when to reconnect is ``reconnect.py``'s: ``_Client`` asks it
  before every attempt (instead of paho's own fixed-host doubling delay), so
  a list of brokers is tried in turn with jittered back-off, and a client id
  that another client uses raises ``client_id_conflict`` and backs off.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, _ConnectionState
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from .config import BridgeConfig
from .inbound import Inbound
from .reconnect import CLOSED_BY_BROKER, Attempt, Broker, Reconnects

log = logging.getLogger("mqtt_bridge.link")


@dataclass(frozen=True)
class Connected:
    generation: int
    session_present: bool
    broker: Broker


@dataclass(frozen=True)
class ConnectRefused:
    reason: str
    broker: Broker


@dataclass(frozen=True)
class Disconnected:
    reason: str
    conflict: bool  # our client id is in use elsewhere (reconnect.py)
    sign: str | None = None  # this end completed a takeover sign (reconnect.py): which


@dataclass(frozen=True)
class Received:
    message: Inbound


@dataclass(frozen=True)
class Puback:
    mid: int
    refused: str | None  # the broker's reason when it did not take the message (MQTT 5)


@dataclass(frozen=True)
class SubscribeRefused:
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class CallbackFailed:
    callback: str
    error: BaseException


@dataclass(frozen=True)
class LoopEnded:
    error: BaseException | None


LinkEvent = (
    Connected
    | ConnectRefused
    | Disconnected
    | Received
    | Puback
    | SubscribeRefused
    | CallbackFailed
    | LoopEnded
)
Deliver = Callable[[LinkEvent], None]


# paho's own _reconnect_wait stops waiting in these states (disconnect() was called).
_GIVING_UP = (_ConnectionState.MQTT_CS_DISCONNECTING, _ConnectionState.MQTT_CS_DISCONNECTED)


class _Client(mqtt.Client):
    """Tells when the network loop ends, however it ends; reconnects where and when
    ``next_attempt`` says."""

    loop_ended: Callable[[BaseException | None], None]  # set before loop_start()
    next_attempt: Callable[[], Attempt]
    # The broker ended the connection in order (a read found the end of the stream),
    # rather than a reset or our keepalive: paho reports all of these alike.
    closed_by_peer = False

    def _sock_recv(self, bufsize: int) -> bytes:
        data = super()._sock_recv(bufsize)
        if not data:
            self.closed_by_peer = True
        return data

    def _reconnect_wait(self) -> None:
        # paho calls this before every reconnect attempt; reconnect() then uses
        # _host and _port. Its own version doubles a fixed delay, without jitter.
        attempt = self.next_attempt()
        self._host, self._port = attempt.broker.host, attempt.broker.port
        deadline = time.monotonic() + attempt.wait_s
        while not self._thread_terminate and self._state not in _GIVING_UP:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.25))

    def loop_forever(
        self, timeout: float = 1.0, retry_first_connection: bool = False
    ) -> MQTTErrorCode:
        try:
            rc = super().loop_forever(timeout, retry_first_connection)
        except BaseException as exc:
            self.loop_ended(exc)
            raise
        self.loop_ended(None)
        return rc


def tcp_no_delay(client: mqtt.Client, userdata: object, sock: Any) -> None:
    """Replies and PUBACKs are small writes right after small writes: with Nagle's
    algorithm each would wait for the broker's delayed ACK (40 ms on Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def json_properties(packet: int = PacketTypes.PUBLISH, **extra: Any) -> Properties:
    props = Properties(packet)  # type: ignore[no-untyped-call]
    props.PayloadFormatIndicator = 1
    props.ContentType = "application/json"
    for name, value in extra.items():
        setattr(props, name, value)
    return props


class Link:
    def __init__(
        self,
        config: BridgeConfig,
        *,
        will: tuple[str, bytes],
        subscriptions: list[tuple[str, SubscribeOptions]],
        deliver: Deliver,
    ) -> None:
        self._config = config
        self._subscriptions = subscriptions
        self._deliver = deliver
        self._generation = 0
        self._pending_subscription: tuple[int | None, int, bool] | None = None  # mid, gen, session
        self._stopping = False
        self.callback_errors = 0
        self.reconnects = Reconnects(
            config.brokers,
            min_s=config.reconnect_min_s,
            max_s=config.reconnect_max_s,
            takeover_backoff_s=config.takeover_backoff_s,
            random=random.random,
        )
        client = _Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.mqtt_client_id,
            protocol=mqtt.MQTTv5 if config.mqtt5 else mqtt.MQTTv311,
            clean_session=None if config.mqtt5 else False,
            reconnect_on_failure=True,
            manual_ack=True,
        )
        client.loop_ended = self._loop_ended
        client.next_attempt = self.reconnects.next_attempt
        client.suppress_exceptions = True  # second line of defence behind _guard
        client.enable_logger(logging.getLogger("mqtt_bridge.paho"))
        client.max_queued_messages_set(0)
        if config.username is not None:
            client.username_pw_set(config.username, config.password)
        if config.tls is not None:
            client.tls_set(
                ca_certs=str(config.tls.ca_file),
                certfile=None if config.tls.cert_file is None else str(config.tls.cert_file),
                keyfile=None if config.tls.key_file is None else str(config.tls.key_file),
                cert_reqs=ssl.CERT_REQUIRED,
            )
        topic, payload = will
        will_properties = json_properties(PacketTypes.WILLMESSAGE) if config.mqtt5 else None
        client.will_set(topic, payload, qos=1, retain=True, properties=will_properties)
        client.on_connect = self._guard("on_connect", self._on_connect)
        client.on_connect_fail = self._guard("on_connect_fail", self._on_connect_fail)
        client.on_disconnect = self._guard("on_disconnect", self._on_disconnect)
        client.on_message = self._guard("on_message", self._on_message)
        client.on_publish = self._guard("on_publish", self._on_publish)
        client.on_subscribe = self._guard("on_subscribe", self._on_subscribe)
        client.on_socket_open = self._guard("on_socket_open", tcp_no_delay)
        self._client = client

    # -- driven from the event loop ----------------------------------------------------

    @property
    def generation(self) -> int:
        return self._generation

    def is_connected(self) -> bool:
        return self._client.is_connected()

    def start(self) -> None:
        broker, keepalive = self.reconnects.broker, self._config.keepalive_s
        if self._config.mqtt5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = self._config.session_expiry_s
            self._client.connect_async(
                broker.host, broker.port, keepalive, clean_start=False, properties=props
            )
        else:  # clean session off: set when the client was made
            self._client.connect_async(broker.host, broker.port, keepalive)
        self._client.loop_start()

    def conflict(self) -> bool:
        return self.reconnects.in_conflict(time.monotonic())

    def taken_over(self) -> None:
        """Another client uses our client id (bridge.py saw its status)."""
        self.reconnects.taken_over(time.monotonic())

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> mqtt.MQTTMessageInfo:
        """QoS 1. Non-blocking: paho queues it and its thread writes it. MQTT 3.1.1 has no
        properties: they are left out."""
        if not self._config.mqtt5:
            properties = None
        return self._client.publish(topic, payload, qos=1, retain=retain, properties=properties)

    def ack(self, message: Inbound) -> None:
        if message.qos > 0 and message.generation == self._generation:
            self._client.ack(message.mid, message.qos)

    def stop(self) -> None:
        """Blocking (run it in a worker thread): a normal DISCONNECT, so no Will."""
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        # paho keeps its loop's wake-up socket pair until the client is collected; a
        # bridge the daemon restarts in place must not leave a pair behind each time.
        self._client._reset_sockets(sockpair_only=True)

    # -- paho's thread ------------------------------------------------------------------

    def _guard(self, name: str, fn: Callable[..., None]) -> Callable[..., None]:
        def guarded(*args: Any) -> None:
            try:
                fn(*args)
            except Exception as exc:
                self.callback_errors += 1
                log.exception("paho callback %s failed", name)
                try:
                    self._deliver(CallbackFailed(name, exc))
                except Exception:  # the event loop is gone: the log line is all we can do
                    log.exception("could not report the failure of %s", name)

        return guarded

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._deliver(ConnectRefused(str(reason_code), self.reconnects.broker))
            return
        self._generation += 1
        self._client.closed_by_peer = False
        self.reconnects.connected(time.monotonic())
        # Always subscribe: the session may be new (expired, or the broker lost it).
        # "Connected" waits for the SUBACK, so that a command sent after it is ours.
        subscriptions: list[tuple[str, SubscribeOptions]] | list[tuple[str, int]]
        if self._config.mqtt5:
            subscriptions = self._subscriptions
        else:  # 3.1.1: a QoS, no options
            subscriptions = [(topic, options.QoS) for topic, options in self._subscriptions]
        _, mid = client.subscribe(subscriptions)
        self._pending_subscription = (mid, self._generation, flags.session_present)

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        self._deliver(ConnectRefused("no connection", self.reconnects.broker))

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        reason = str(reason_code)
        if not flags.is_disconnect_packet_from_server and self._client.closed_by_peer:
            reason = CLOSED_BY_BROKER  # paho's "Unspecified error" for an orderly close
        sign = self.reconnects.disconnected(time.monotonic(), reason=reason)
        self._deliver(Disconnected(reason, self.reconnects.conflict, sign))

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        props = msg.properties
        response_topic = getattr(props, "ResponseTopic", None)
        correlation = getattr(props, "CorrelationData", None)
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            # Brokers check topics are UTF-8 (MQTT 5 section 1.5.4); never ours to judge.
            client.ack(msg.mid, msg.qos)
            return
        self._deliver(
            Received(
                Inbound(
                    topic=topic,
                    payload=bytes(msg.payload),
                    qos=msg.qos,
                    retain=bool(msg.retain),
                    dup=bool(msg.dup),
                    mid=msg.mid,
                    response_topic=response_topic if isinstance(response_topic, str) else None,
                    correlation_data=bytes(correlation) if correlation is not None else None,
                    generation=self._generation,
                    broker=str(self.reconnects.broker),
                )
            )
        )

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._deliver(Puback(mid, str(reason_code) if reason_code.is_failure else None))

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = tuple(str(code) for code in reason_codes if code.is_failure)
        if refused:
            self._deliver(SubscribeRefused(refused))
        pending = self._pending_subscription
        if pending is not None and pending[0] == mid:
            self._pending_subscription = None
            self._deliver(Connected(pending[1], pending[2], self.reconnects.broker))

    def _loop_ended(self, error: BaseException | None) -> None:
        if error is None and self._stopping:
            return
        try:
            self._deliver(LoopEnded(error))
        except Exception:
            log.exception("could not report the end of the network loop")
