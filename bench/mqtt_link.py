"""The central system's link over a loopback Mosquitto, against bare paho-mqtt in the same run.

Two figures, each beside its baseline:

* **command -> reply latency**: a central client publishes a command with an
  MQTT 5 response topic and waits for the reply, one at a time. ``ping`` is
  answered by the bridge itself; ``set_service`` goes through the app and
  commits to SQLite (WAL, ``synchronous=FULL``) before it is answered. The
  baseline is a bare paho responder that answers in its ``on_message``
  callback: the broker round trip with no locker behind it.
* **events drained from the outbox**: N events are written to the outbox
  first; the clock starts when the bridge starts and stops when a consumer
  has received all of them in order and the outbox is empty, i.e. the
  consumer's cumulative acks (one per 100 events) were committed with
  ``synchronous=FULL``. The baseline is a bare paho loop publishing N
  messages of the same size at QoS 1 (100 in flight) to a subscriber.

The locker is the real ``LockerService`` on a real SQLite file (the app
tests' harness: fake lock driver and clock). ``python -m bench.mqtt_link``
prints the table; ``--write`` also puts it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from locker_host.daemon.mqtt_link import ServicePort
from locker_host.store import OutgoingEvent, Store, UnitOfWork
from mqtt_bridge import BridgeConfig, MqttBridge, Topics
from mqtt_bridge.link import tcp_no_delay
from tests.app.harness import Locker
from tests.mqtt.broker import Mosquitto

from .harness import machine, markdown_table, percentile, replace_block

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
TOPICS = Topics("bench", "L1")
BARE_REQUEST, BARE_REPLY = "bench/bare/request", "bench/bare/reply"
WAIT_S = 60.0


@dataclass(frozen=True)
class Latency:
    name: str
    samples: list[float]  # seconds

    def p(self, q: float) -> float:
        return percentile(self.samples, q) * 1e3


@dataclass(frozen=True)
class Drain:
    name: str
    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def paho_client(client_id: str) -> mqtt.Client:
    """A bare paho client, with TCP_NODELAY as the bridge's own (link.tcp_no_delay)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_socket_open = tcp_no_delay
    client.max_inflight_messages_set(100)
    return client


class Client:
    """A blocking MQTT 5 client: every message it gets lands in a list, signalled."""

    def __init__(self, port: int, client_id: str) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self.arrived = threading.Condition()
        self.client = paho_client(client_id)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.arrived:
            self.messages.append(msg)
            self.arrived.notify_all()

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)
        time.sleep(0.2)  # SUBACK; the benchmark measures after this

    def wait(self, condition: Callable[[], bool], timeout: float = WAIT_S) -> None:
        with self.arrived:
            if not self.arrived.wait_for(condition, timeout):
                raise TimeoutError("no reply in time")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def round_trips(port: int, topic: str, reply_topic: str, payloads: list[bytes]) -> list[float]:
    """One request at a time; seconds from publish to the reply with its correlation data."""
    client = Client(port, f"bench-central-{uuid.uuid4().hex[:6]}")
    client.subscribe(reply_topic)
    samples = []
    try:
        for payload in payloads:
            correlation = uuid.uuid4().bytes
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = reply_topic
            props.CorrelationData = correlation
            start = time.perf_counter()
            client.client.publish(topic, payload, qos=1, properties=props)
            client.wait(
                lambda c=correlation: any(
                    getattr(m.properties, "CorrelationData", None) == c for m in client.messages
                )
            )
            samples.append(time.perf_counter() - start)
            client.messages.clear()
    finally:
        client.close()
    return samples


def bare_responder(port: int) -> mqtt.Client:
    responder = paho_client("bench-bare")

    def answer(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        props = Properties(PacketTypes.PUBLISH)
        props.CorrelationData = msg.properties.CorrelationData
        client.publish(msg.properties.ResponseTopic, b'{"ok":true}', qos=1, properties=props)

    responder.on_message = answer
    responder.connect("127.0.0.1", port)
    responder.subscribe(BARE_REQUEST, qos=1)
    responder.loop_start()
    time.sleep(0.2)
    return responder


def bare_publish_loop(port: int, count: int, payload: bytes) -> float:
    """Seconds from the first publish until a subscriber has all ``count`` messages."""
    sink = Client(port, "bench-bare-sink")
    sink.subscribe("bench/bare/events")
    source = paho_client("bench-bare-source")
    source.connect("127.0.0.1", port)
    source.loop_start()
    try:
        start = time.perf_counter()
        for _ in range(count):
            source.publish("bench/bare/events", payload, qos=1)
        sink.wait(lambda: len(sink.messages) >= count)
        return time.perf_counter() - start
    finally:
        source.disconnect()
        source.loop_stop()
        sink.close()


def prefill(db: Path, count: int) -> None:
    """``count`` events in the outbox, in one transaction (as if the network had been down)."""
    store = Store.open(db, now=datetime.now(UTC))
    try:
        event = OutgoingEvent(
            "compartment.out_of_service", {"compartment": "B01", "reason": "bench"}
        )
        store.commit(UnitOfWork(events=[event] * count), now=datetime.now(UTC))
    finally:
        store.close()


def drain_with_consumer(consumer: Client, count: int) -> float:
    """Wait for all ``count`` events in order, ack every 100 (cumulative); the end time."""
    seen = acked = 0
    while seen < count:
        consumer.wait(lambda: bool(consumer.messages))
        with consumer.arrived:
            batch, consumer.messages[:] = list(consumer.messages), []
        for msg in batch:
            event = json.loads(msg.payload)
            if event["seq"] == seen + 1:
                seen += 1
            if seen - acked >= 100 or seen == count:
                ack = {"boot_id": event["boot_id"], "seq": seen}
                consumer.client.publish(TOPICS.events_ack, json.dumps(ack), qos=1)
                acked = seen
    return time.perf_counter()


async def bench_bridge(
    port: int, directory: Path, commands: int, events: int
) -> tuple[list[Latency], Drain]:
    db = directory / "locker.db"
    prefill(db, events)
    locker = await Locker.start(db)
    port_adapter = ServicePort(locker.api, locker.service)
    config = BridgeConfig(
        site=TOPICS.site, locker=TOPICS.locker, host="127.0.0.1", port=port, poll_interval_s=0.5
    )
    bridge = MqttBridge(config, port_adapter, wall=locker.clock.wall)
    consumer = Client(port, "bench-consumer")
    consumer.subscribe(TOPICS.events)
    start = time.perf_counter()
    run = asyncio.create_task(bridge.run())
    try:
        head = events + 1  # and the service's locker.restarted
        await asyncio.to_thread(drain_with_consumer, consumer, head)
        while (await port_adapter.outbox_stats()).pending:
            await asyncio.sleep(0.001)
        drained_s = time.perf_counter() - start
        consumer.close()
        pings = [json.dumps(locker.payload(command_id=f"p{i}")).encode() for i in range(commands)]
        services = [
            json.dumps(
                locker.payload(
                    command_id=f"s{i}", compartment="B01", in_service=i % 2 == 1, reason="bench"
                )
            ).encode()
            for i in range(commands)
        ]
        reply = f"{TOPICS.reply}/bench"
        ping = await asyncio.to_thread(round_trips, port, TOPICS.command("ping"), reply, pings)
        service = await asyncio.to_thread(
            round_trips, port, TOPICS.command("set_service"), reply, services
        )
        assert bridge.statistics().commands_refused == 0, bridge.statistics()
    finally:
        bridge.stop()
        await asyncio.wait_for(run, WAIT_S)
        await locker.close()
    return [
        Latency("bridge: ping", ping),
        Latency("bridge: set_service (SQLite FULL)", service),
    ], Drain("bridge: outbox -> consumer, acked", head, drained_s)


def run(quick: bool = False) -> str:
    commands, events = (100, 1_000) if quick else (500, 5_000)
    with tempfile.TemporaryDirectory(prefix="mqtt-bench-") as scratch:
        directory = Path(scratch)
        # Nagle's algorithm on the broker's sockets would add a delayed-ACK wait (40 ms on
        # Linux) to every small reply that follows another: both sides would measure that.
        # The bare loop has no flow control: a queue large enough that the broker drops
        # nothing for the subscriber (the bridge stays within events_ahead_of_ack anyway).
        lines = ["allow_anonymous true", "set_tcp_nodelay true", "max_queued_messages 100000"]
        broker = Mosquitto(directory / "broker", lines=lines)
        broker.start()
        try:
            latencies, drain = asyncio.run(bench_bridge(broker.port, directory, commands, events))
            responder = bare_responder(broker.port)
            try:
                bare = Latency(
                    "bare paho echo",
                    round_trips(broker.port, BARE_REQUEST, BARE_REPLY, [b'{"ping":1}'] * commands),
                )
            finally:
                responder.disconnect()
                responder.loop_stop()
            sample = json.dumps(
                {
                    "site": "bench", "locker": "L1", "boot_id": "0" * 32, "seq": 1234,
                    "event_id": str(uuid.uuid4()), "type": "compartment.out_of_service",
                    "created_at": "2026-06-01T02:13:07.512Z",
                    "payload": {"compartment": "B01", "reason": "bench"},
                }
            ).encode()  # fmt: skip
            bare_drain = Drain(
                "bare paho publish loop", events, bare_publish_loop(broker.port, events, sample)
            )
        finally:
            broker.kill()
    lat_rows = [
        (x.name, len(x.samples), f"{x.p(50):.2f}", f"{x.p(99):.2f}", f"{x.p(50) / bare.p(50):.1f}")
        for x in [*latencies, bare]
    ]
    drain_rows = [
        (
            d.name,
            d.events,
            f"{d.seconds:.2f}",
            f"{d.per_second:.0f}",
            f"{d.per_second / bare_drain.per_second:.2f}",
        )
        for d in (drain, bare_drain)
    ]
    return (
        "Mosquitto on loopback.\n\n"
        + markdown_table(
            ("command -> reply", "commands", "p50 ms", "p99 ms", "p50 / bare"), lat_rows
        )
        + "\n"
        + markdown_table(("events", "events", "seconds", "events/s", "/ bare"), drain_rows)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.mqtt_link")
    parser.add_argument("--quick", action="store_true", help="100 commands, 1000 events")
    parser.add_argument("--write", action="store_true", help="record the table in docs/")
    args = parser.parse_args(argv)
    section = f"Run {dt.date.today().isoformat()}: {machine()}\n\n{run(quick=args.quick)}"
    print(section)
    if args.write:
        DOC.write_text(replace_block(DOC.read_text(), "mqtt", section))
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
