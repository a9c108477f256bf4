"""The fleet: cost per locker link at 10, 100 and 1,000 lockers, on the 3-node RabbitMQ
cluster beside a single Mosquitto in the same run (MQTT 3.1.1 on both), and the time to
recover after a node kill and after a cluster restart.

The lockers are the fleet runner's (tests/fleet/runner.py: the real LockerService and
MqttLink per locker, fake boards), in one process per 125 lockers. The offered load is
fixed at ``OFFERED_EVENTS_S`` events per second over the whole fleet (each locker makes
one every ``count / OFFERED_EVENTS_S`` s on average), so the figures per locker compare
fleets of different sizes doing the same work.

The central side is one paho-mqtt client (MQTT 3.1.1, persistent session): it takes
every event, keeps per locker the contiguous prefix and acknowledges it (every 10
events and twice a second), and times ``ping`` commands one at a time (replies on
``reply``, matched by command_id). On RabbitMQ it subscribes through node 1.

Per fleet size and broker: runner CPU (user + system) per locker as a percentage of
one core, RSS per locker, threads per locker, events/s delivered in order end to end
while the load runs, broker CPU (all nodes) over the same window, and command -> reply
p50/p99. ``python -m bench.fleet [--quick] [--write]``.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psutil
from paho.mqtt.enums import CallbackAPIVersion

from mqtt_bridge.link import tcp_no_delay
from tests.fleet.profile import PROFILES
from tests.fleet.rabbit import RabbitCluster, mqtt_connections, peak_rate
from tests.fleet.world import (
    SITE,
    Fleet,
    all_connected,
    busiest_node,
    connected_to,
    drained,
    reconnected,
)
from tests.mqtt.broker import Mosquitto

from .harness import machine, markdown_table, percentile, replace_block

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
OFFERED_EVENTS_S = 50.0
# paho's network loop uses select(), which takes file descriptors below 1024 only; a
# locker holds about six (its socket, paho's wake-up pair, SQLite's database, WAL and
# shared memory), so one process carries at most ~169 lockers (measured): 125 each.
PER_PROCESS = 125
WINDOW_S = 20.0
# How often each link looks at its outbox when nothing woke it, and each runner reports:
# the long fleet profile's (tests/fleet/profile.py says why), at every size.
LINK = PROFILES["long"]
PINGS = 100


class MqttCentral:
    """The central system as one MQTT 3.1.1 client: events acked in order, pings timed."""

    def __init__(self, port: int) -> None:
        self.last: dict[str, int] = {}
        self.acked: dict[str, int] = {}
        self.boot: dict[str, str] = {}
        self.delivered = 0
        self._lock = threading.Lock()
        self._replies: dict[str, threading.Event] = {}
        self._connected = threading.Event()
        self._stop = threading.Event()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"bench-central-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv311,
            # A session that ends with the client: each run makes a new central (a new
            # client id), and a session kept after it would be a quorum queue on the
            # cluster taking every later event of the run, never read.
            clean_session=True,
        )
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_socket_open = tcp_no_delay  # as the bridge does: no Nagle delay on pings
        client.reconnect_delay_set(1, 2)
        client.connect("127.0.0.1", port, keepalive=10)
        client.loop_start()
        self._client = client
        if not self._connected.wait(30):
            raise RuntimeError("the bench central did not connect")
        self._acker = threading.Thread(target=self._ack_loop, daemon=True)
        self._acker.start()

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe(
            [(f"lockers/v1/{SITE}/+/events", 1), (f"lockers/v1/{SITE}/+/reply", 1)]
        )
        self._connected.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        locker, rest = msg.topic.split("/")[3], msg.topic.split("/", 4)[4]
        body = json.loads(msg.payload)
        if rest == "reply":
            waiter = self._replies.get(body.get("command_id"))
            if waiter is not None:
                waiter.set()
            return
        with self._lock:
            if body["seq"] == self.last.get(locker, 0) + 1:
                self.last[locker] = body["seq"]
                self.boot[locker] = body["boot_id"]
                self.delivered += 1
                if self.last[locker] - self.acked.get(locker, 0) >= 10:
                    self._ack(locker)

    def _ack(self, locker: str) -> None:
        self.acked[locker] = self.last[locker]
        self._client.publish(
            f"lockers/v1/{SITE}/{locker}/events/ack",
            json.dumps({"boot_id": self.boot[locker], "seq": self.last[locker]}),
            qos=1,
        )

    def _ack_loop(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                for locker in list(self.last):
                    if self.last[locker] > self.acked.get(locker, 0):
                        self._ack(locker)

    def ping(self, locker: str, timeout: float = 10.0) -> float | None:
        command_id = uuid.uuid4().hex
        waiter = threading.Event()
        self._replies[command_id] = waiter
        expires = datetime.fromtimestamp(time.time() + 600, UTC).isoformat()
        started = time.perf_counter()
        self._client.publish(
            f"lockers/v1/{SITE}/{locker}/cmd/ping",
            json.dumps({"command_id": command_id, "expires_at": expires}),
            qos=1,
        )
        ok = waiter.wait(timeout)
        del self._replies[command_id]
        return (time.perf_counter() - started) * 1000 if ok else None

    def close(self) -> None:
        self._stop.set()
        self._client.disconnect()
        self._client.loop_stop()


@dataclass
class Row:
    broker: str
    lockers: int
    cpu_pct_per_locker: float
    rss_kib_per_locker: float
    threads_per_locker: float
    events_s: float
    broker_cpu_pct: float
    p50_ms: float
    p99_ms: float
    lost_pings: int


@dataclass
class Recovery:
    what: str
    lockers: int
    connected_s: float
    drained_s: float
    peak_connections_s: int = 0
    connections: int = 0


@dataclass
class Brokers:
    name: str
    mqtt: str  # host:port list for the runners
    central_port: int
    pids: list[int] = field(default_factory=list)


def _broker_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            for one in [process, *process.children(recursive=True)]:
                times = one.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def measure(brokers: Brokers, count: int, directory: Path, window_s: float) -> Row:
    fleet = Fleet(
        directory / f"{brokers.name}-{count}",
        brokers.mqtt,
        count,
        processes=max(1, -(-count // PER_PROCESS)),
        event_interval=count / OFFERED_EVENTS_S,
        poll_s=LINK.poll_s,
        status_every_s=LINK.status_every_s,
    )
    central = MqttCentral(brokers.central_port)
    fleet.start()
    try:
        try:
            fleet.wait(all_connected(count), 300, f"{count} lockers connected")
        except TimeoutError as problem:
            print(f"  {problem}", flush=True)
            status = fleet.status()
            return Row(f"{brokers.name}: {status['connected']} of {count} connected in 300 s",
                       count, *(float("nan"),) * 7, 0)
        time.sleep(5.0)  # past the first connects' republish
        first = fleet.status()
        delivered, broker_cpu = central.delivered, _broker_cpu(brokers.pids)
        time.sleep(window_s)
        last = fleet.status()
        events_s = (central.delivered - delivered) / window_s
        broker_pct = (_broker_cpu(brokers.pids) - broker_cpu) / window_s * 100
        cpu = (last["cpu_s"] - first["cpu_s"]) / window_s * 100
        names = fleet.names()
        latencies = [central.ping(random.choice(names)) for _ in range(PINGS)]
        timed = [value for value in latencies if value is not None]
        return Row(
            brokers.name,
            count,
            cpu / count,
            last["rss_kib"] / count,
            last["threads"] / count,
            events_s,
            broker_pct,
            percentile(timed, 50) if timed else float("nan"),
            percentile(timed, 99) if timed else float("nan"),
            len(latencies) - len(timed),
        )
    finally:
        fleet.stop()
        central.close()


def recoveries(cluster: RabbitCluster, count: int, directory: Path) -> list[Recovery]:
    """On one fleet of ``count``: a node killed (node 2 or 3, whichever holds more lockers),
    then the whole cluster restarted."""
    fleet = Fleet(
        directory / f"recovery-{count}",
        ",".join(f"127.0.0.1:{n.mqtt_port}" for n in cluster.nodes),
        count,
        processes=max(1, -(-count // PER_PROCESS)),
        event_interval=count / OFFERED_EVENTS_S,
        poll_s=LINK.poll_s,
        status_every_s=LINK.status_every_s,
    )
    central = MqttCentral(cluster.node(1).mqtt_port)
    fleet.start()
    found = []
    try:
        fleet.wait(all_connected(count), 300, f"{count} lockers connected")
        time.sleep(10.0)
        before = fleet.status()
        # not node 1, the central's; of the others, the one with the most lockers
        victim = busiest_node(cluster, before, among=[2, 3])
        moved = connected_to(before, victim.mqtt_port)
        started = time.monotonic()
        cluster.kill(victim.index)
        fleet.wait(reconnected(before, moved, count), 300, "back after a node kill")
        connected = time.monotonic() - started
        fleet.stop_load()
        fleet.wait(drained(count), 300, "drained after a node kill")
        found.append(Recovery(f"node {victim.index} killed (kill -9), {len(moved)} lockers on it",
                              count, connected, time.monotonic() - started))
        cluster.start(victim.index)
        central.close()
        # The whole cluster: killed, started; timed from the last node's boot.
        killed_at = datetime.now(UTC)
        before = fleet.status()
        cluster.kill_all()
        cluster.start_all()
        ready = max(cluster.started_at(node) or killed_at for node in cluster.nodes)
        central = MqttCentral(cluster.node(1).mqtt_port)
        fleet.wait(reconnected(before, set(fleet.names()), count), 300, "back after a restart")
        connected_at = datetime.now(UTC)
        fleet.wait(drained(count), 300, "drained after a restart")
        drained_at = datetime.now(UTC)
        accepted = mqtt_connections(cluster, killed_at)
        found.append(
            Recovery(
                f"whole cluster killed and started (nodes booted in "
                f"{(ready - killed_at).total_seconds():.0f} s)",
                count,
                (connected_at - ready).total_seconds(),
                (drained_at - ready).total_seconds(),
                peak_rate(accepted),
                len(accepted),
            )
        )
    finally:
        fleet.stop()
        central.close()
    return found


@contextmanager
def mosquitto(directory: Path) -> Iterator[Brokers]:
    broker = Mosquitto(directory / "mosquitto", lines=["allow_anonymous true",
                                                       "max_queued_messages 100000",
                                                       "set_tcp_nodelay true"])
    broker.start()
    try:
        assert broker.process is not None
        yield Brokers("Mosquitto", f"127.0.0.1:{broker.port}", broker.port,
                      [broker.process.pid])
    finally:
        broker.kill()


@contextmanager
def rabbit(directory: Path) -> Iterator[tuple[Brokers, RabbitCluster]]:
    cluster = RabbitCluster(directory / "rabbit")
    cluster.start_all()
    cluster.wait_clustered()
    try:
        pids = [node.process.pid for node in cluster.nodes if node.process is not None]
        yield (
            Brokers(
                "RabbitMQ x3",
                ",".join(f"127.0.0.1:{n.mqtt_port}" for n in cluster.nodes),
                cluster.node(1).mqtt_port,
                pids,
            ),
            cluster,
        )
    finally:
        cluster.stop_all()


def run(quick: bool = False) -> str:
    sizes = (10, 100) if quick else (10, 100, 1000)
    window = 10.0 if quick else WINDOW_S
    rows: list[Row] = []
    found: list[Recovery] = []
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as temporary:
        directory = Path(temporary)
        for count in sizes:
            with mosquitto(directory / f"m{count}") as brokers:
                rows.append(measure(brokers, count, directory, window))
                print(f"  {rows[-1]}", flush=True)
        with rabbit(directory) as (brokers, cluster):
            for count in sizes:
                rows.append(measure(brokers, count, directory, window))
                print(f"  {rows[-1]}", flush=True)
            try:
                found = recoveries(cluster, sizes[-1], directory)
            except TimeoutError as problem:
                print(f"  recovery not measured: {problem}", flush=True)
                # the table gets the first line; the lockers not back are printed above
                found = [Recovery(f"not reached: {str(problem).splitlines()[0]}", sizes[-1],
                                  float("nan"), float("nan"))]
            for one in found:
                print(f"  {one}", flush=True)
    return render(rows, found)


def render(rows: list[Row], found: list[Recovery]) -> str:
    base = {row.lockers: row for row in rows if row.broker == "Mosquitto"}
    table = markdown_table(
        (
            "broker", "lockers", "runner CPU % of a core per locker", "RSS KiB per locker",
            "threads per locker", "events/s end to end", "broker CPU %",
            "ping p50 ms", "ping p99 ms", "p50 / Mosquitto", "pings lost",
        ),
        [
            (
                row.broker, row.lockers, f"{row.cpu_pct_per_locker:.3f}",
                f"{row.rss_kib_per_locker:.0f}", f"{row.threads_per_locker:.2f}",
                f"{row.events_s:.1f}", f"{row.broker_cpu_pct:.0f}", f"{row.p50_ms:.1f}",
                f"{row.p99_ms:.1f}",
                f"{row.p50_ms / base[row.lockers].p50_ms:.2f}" if row.lockers in base else "",
                row.lost_pings,
            )
            for row in rows
        ],
    )
    recovery = markdown_table(
        ("fault", "lockers", "all connected s", "all outboxes drained s",
         "peak MQTT connections accepted in 1 s", "connections accepted"),
        [
            (one.what, one.lockers, f"{one.connected_s:.1f}", f"{one.drained_s:.1f}",
             one.peak_connections_s or "", one.connections or "")
            for one in found
        ],
    )
    return f"Offered load {OFFERED_EVENTS_S:.0f} events/s over the fleet.\n\n{table}\n{recovery}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    facts = f"{datetime.now(UTC).date().isoformat()}: {machine()}"
    print(facts)
    body = run(args.quick)
    print(body)
    if args.write:
        DOC.write_text(replace_block(DOC.read_text(), "fleet", f"Run {facts}\n\n{body}"))


if __name__ == "__main__":
    main()
