"""``MqttBridge``: the locker's link to the central system over one MQTT session (MQTT 5,
or 3.1.1 with ``protocol = "3.1.1"``), on one broker of a list at a time.

The daemon builds it with a ``BridgeConfig`` and its ``LockerPort`` and runs
``await bridge.run()`` as one task; cancelling that task (or ``stop()``) ends
it cleanly: ``status`` goes ``offline`` (reason ``shutdown``), then a normal
DISCONNECT, so the broker does not send the Will. ``run()`` raises
``BridgeFailed`` when a paho callback raised or paho's network thread ended;
everything a peer can send is answered or logged instead.

Inside ``run()`` (all on the event loop, except paho's thread in ``link.py``):

  dispatcher   LinkEvents from paho's thread: connection changes, messages
               (commands and acks to their queues), PUBACKs, failures
  EventPump    the outbox to ``events`` (events.py)
  StatePublisher  retained status / state / board status (state.py)
  CommandDesk  two workers: commands in order, acks in order (commands.py)

``wake()`` tells the pump and the publisher that the locker changed (the
daemon calls it after each commit); without it they look every
``poll_interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from importlib import metadata

from paho.mqtt.subscribeoptions import SubscribeOptions

from . import messages
from .commands import CommandDesk
from .config import BridgeConfig
from .context import BridgeContext
from .errors import BridgeFailed
from .events import EventPump
from .inbound import Inbound
from .link import (
    CallbackFailed,
    Connected,
    ConnectRefused,
    Disconnected,
    Link,
    LinkEvent,
    LoopEnded,
    Puback,
    Received,
    SubscribeRefused,
    json_properties,
)
from .port import LockerPort
from .state import StatePublisher
from .statistics import BridgeStatistics
from .topics import Topics

log = logging.getLogger("mqtt_bridge")

CLIENT_ID_CONFLICT = "client_id_conflict"  # an alarm of the link's own (reconnect.py)
QUEUE_LIMIT = 1_000  # QoS 1 needs no more (we PUBACK after answering); QoS 0 floods are cut
SHUTDOWN_TIMEOUT_S = 2.0


def _software_version() -> str:
    try:
        return metadata.version("locker-controller")
    except metadata.PackageNotFoundError:
        return "unknown"


class MqttBridge:
    def __init__(
        self,
        config: BridgeConfig,
        port: LockerPort,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._port = port
        self._wall = wall
        self._monotonic = monotonic
        self._topics = Topics(config.site, config.locker, config.topic_prefix)
        self._software = config.software or _software_version()
        self._stats = BridgeStatistics()
        self._online = asyncio.Event()
        self._stop = asyncio.Event()
        self._running = False
        self._link: Link | None = None
        self._pump: EventPump | None = None
        self._publisher: StatePublisher | None = None
        self._boot_id = ""
        self._own_boots: set[str] = set()  # earlier starts of this locker, seen on status
        # Brokers that have delivered this start's own status back: one that then delivers
        # another boot's status had it published after ours (_watch_status).
        self._status_back_from: set[str] = set()
        self._refused = False  # the current attempt was refused (counted once)

    @property
    def topics(self) -> Topics:
        return self._topics

    def statistics(self) -> BridgeStatistics:
        stats = replace(self._stats)
        if self._link is not None:
            stats.callback_errors = self._link.callback_errors
            stats.takeovers = self._link.reconnects.takeovers
            if self._link.conflict():
                stats.alarms = (*stats.alarms, CLIENT_ID_CONFLICT)
        return stats

    def wake(self) -> None:
        """Something changed: look at the outbox and the state now (call on the event loop)."""
        if self._pump is not None and self._publisher is not None:
            self._pump.wake()
            self._publisher.wake()

    def stop(self) -> None:
        self._stop.set()

    async def wait_connected(self) -> None:
        await self._online.wait()

    async def run(self) -> None:
        if self._running:
            raise RuntimeError("this bridge is already running")
        self._running = True
        snapshot = await self._port.snapshot()
        boot_id = str(snapshot["boot_id"])
        self._boot_id = boot_id
        context = BridgeContext(
            config=self._config,
            topics=self._topics,
            port=self._port,
            stats=self._stats,
            online=self._online,
            wall=self._wall,
            monotonic=self._monotonic,
            software=self._software,
            boot_id=boot_id,
        )
        pump = EventPump(context)
        publisher = StatePublisher(context)
        desk = CommandDesk(context, pump=pump, publisher=publisher)
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[LinkEvent] = asyncio.Queue()

        def deliver(event: LinkEvent) -> None:  # on paho's thread
            loop.call_soon_threadsafe(inbox.put_nowait, event)

        will = messages.status_offline(
            self._topics, boot_id=boot_id, software=self._software, reason="connection_lost"
        )
        link = Link(
            self._config,
            will=(self._topics.status, messages.encode(will)),
            subscriptions=_subscriptions(self._topics),
            deliver=deliver,
        )
        for part in (pump, publisher, desk):
            part.attach(link)
        self._link, self._pump, self._publisher = link, pump, publisher
        commands: asyncio.Queue[Inbound] = asyncio.Queue(QUEUE_LIMIT)
        acks: asyncio.Queue[Inbound] = asyncio.Queue(QUEUE_LIMIT)
        statuses: asyncio.Queue[Inbound] = asyncio.Queue(QUEUE_LIMIT)
        link.start()
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._dispatch(inbox, commands, acks, statuses)),
                    group.create_task(pump.run()),
                    group.create_task(publisher.run()),
                    group.create_task(_serve(commands, desk.answer)),
                    group.create_task(_serve(acks, desk.apply_ack)),
                    group.create_task(_serve(statuses, self._watch_status)),
                ]
                await self._stop.wait()
                for task in tasks:
                    task.cancel()
        except* BridgeFailed as failed:
            failure = failed.exceptions[0]
            raise failure from failure.__cause__  # not wrapped in a group; the cause kept
        finally:
            await self._shutdown(link, boot_id)

    async def _dispatch(
        self,
        inbox: asyncio.Queue[LinkEvent],
        commands: asyncio.Queue[Inbound],
        acks: asyncio.Queue[Inbound],
        statuses: asyncio.Queue[Inbound],
    ) -> None:
        assert self._link is not None and self._pump is not None and self._publisher is not None
        pump, publisher = self._pump, self._publisher
        while True:
            event = await inbox.get()
            match event:
                case Connected(session_present=session_present, broker=broker):
                    self._stats.connects += 1
                    self._stats.connected = True
                    self._stats.broker = str(broker)
                    log.info("connected to %s (session present: %s)", broker, session_present)
                    self._refused = False
                    self._online.set()
                    pump.restart_pass()
                    publisher.republish()
                case Disconnected(reason=reason, conflict=conflict, sign=sign):
                    if sign is not None:
                        self._log_conflict(sign)
                    if self._stats.connected:
                        self._stats.disconnects += 1
                        log.warning("disconnected: %s", reason)
                    elif not self._refused:
                        # An attempt that ended with neither a refusal nor a connection: the
                        # broker took the TCP connection and never answered CONNECT (paho
                        # gives up after keepalive_s), or closed it before our subscriptions
                        # were granted. A failed attempt, counted as one.
                        self._stats.connect_failures += 1
                        self._stats.last_error = f"connection ended before it was made: {reason}"
                        log.warning("the connection ended before it was made: %s", reason)
                    self._refused = False
                    if conflict and sign is None:
                        log.warning(
                            "%s: client id %s still in use elsewhere; next attempt in %d s or so",
                            CLIENT_ID_CONFLICT,
                            self._config.mqtt_client_id,
                            self._config.takeover_backoff_s,
                        )
                    self._stats.connected = False
                    self._online.clear()
                    pump.link_lost()
                case ConnectRefused(reason=reason, broker=broker):
                    self._stats.connect_failures += 1
                    # paho reports the end of a refused connection as a disconnect too
                    self._refused = True
                    log.warning("cannot connect to %s: %s", broker, reason)
                case Received(message=message):
                    if message.topic == self._topics.events_ack:
                        queue = acks
                    elif message.topic == self._topics.status:
                        queue = statuses
                    else:
                        queue = commands
                    try:
                        queue.put_nowait(message)
                    except asyncio.QueueFull:
                        self._stats.commands_dropped += 1
                        self._link.ack(message)
                case Puback(refused=refused):
                    pump.puback()
                    if refused is not None:
                        self._stats.publishes_refused += 1
                        log.error("the broker refused a publish: %s", refused)
                case SubscribeRefused(reasons=reasons):
                    self._stats.last_error = f"subscribe refused: {', '.join(reasons)}"
                    log.error("the broker refused our subscriptions: %s (check the ACL)", reasons)
                case CallbackFailed(callback=callback, error=error):
                    self._stats.last_error = f"{callback}: {error!r}"
                    raise BridgeFailed(f"paho callback {callback} raised {error!r}") from error
                case LoopEnded(error=error):
                    self._stats.last_error = f"network loop ended: {error!r}"
                    raise BridgeFailed(f"paho's network loop ended: {error!r}") from error

    async def _watch_status(self, message: Inbound) -> None:
        """A status under our own topic: ours, an earlier start's, or another locker's."""
        assert self._link is not None
        boot_id = _boot_id_of(message.payload)
        if boot_id == self._boot_id:
            self._status_back_from.add(message.broker)
        elif boot_id is not None and boot_id not in self._own_boots:
            try:
                own = await self._port.known_boot(boot_id)
            except Exception as exc:
                self._stats.port_errors += 1
                self._stats.last_error = f"known_boot: {exc!r}"
                log.exception("could not look up boot %s", boot_id)
                own = True  # no alarm on a guess
            if own:
                self._own_boots.add(boot_id)
            elif message.broker not in self._status_back_from:
                # Published before ours reached this broker: an earlier holder of the id
                # (a locker replaced by a new one on a new database), or a status left long
                # ago on a node whose retained store is its own. History, not a sign; a
                # holder that is alive publishes again after us and is seen then.
                log.warning(
                    "a status under our topic from boot %s, which is not this locker's, "
                    "published on %s before ours: an earlier holder of client id %s (a "
                    "replaced locker?); an alarm only if it comes again after ours",
                    boot_id,
                    message.broker,
                    self._config.mqtt_client_id,
                )
            else:
                self._link.taken_over()
                self._log_conflict(
                    f"a status under our topic from boot {boot_id}, which is not this locker's"
                )
        self._link.ack(message)

    def _log_conflict(self, sign: str) -> None:
        """The alarm's log line, whichever sign raised it (reconnect.py)."""
        log.error(
            "alarm %s: %s: another client uses client id %s (a cloned locker?); "
            "reconnecting only every %d s",
            CLIENT_ID_CONFLICT,
            sign,
            self._config.mqtt_client_id,
            self._config.takeover_backoff_s,
        )

    async def _shutdown(self, link: Link, boot_id: str) -> None:
        self._online.clear()
        if link.is_connected():
            goodbye = messages.status_offline(
                self._topics,
                boot_id=boot_id,
                software=self._software,
                reason="shutdown",
                at=self._wall(),
            )
            info = link.publish(
                self._topics.status,
                messages.encode(goodbye),
                retain=True,
                properties=json_properties(),
            )
            with contextlib.suppress(RuntimeError, ValueError):
                await asyncio.to_thread(info.wait_for_publish, SHUTDOWN_TIMEOUT_S)
        await asyncio.to_thread(link.stop)
        self._stats.connected = False


def _subscriptions(topics: Topics) -> list[tuple[str, SubscribeOptions]]:
    # Retain As Published, so that a retained command is seen as one and refused; and
    # retained commands are not sent at subscribe time at all (MQTT 5 section 3.8.3.1).
    commands = SubscribeOptions(
        qos=1, retainAsPublished=True, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND
    )
    # Its own status, retained one included: one from a boot that is not ours is
    # another locker using our identity (reconnect.py, the takeover watch).
    return [
        (topics.commands, commands),
        (topics.events_ack, SubscribeOptions(qos=1)),
        (topics.status, SubscribeOptions(qos=1)),
    ]


def _boot_id_of(payload: bytes) -> str | None:
    try:
        status = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None  # an empty (cleared) retained status, or not ours to judge
    boot_id = status.get("boot_id") if isinstance(status, dict) else None
    return boot_id if isinstance(boot_id, str) and boot_id else None


async def _serve(
    queue: asyncio.Queue[Inbound], handle: Callable[[Inbound], Awaitable[None]]
) -> None:
    while True:
        await handle(await queue.get())
