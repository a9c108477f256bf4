"""The fleet world for tests/fleet and bench/fleet: a RabbitMQ cluster, PostgreSQL, the
reference central system's consumers and fleet runners, each a real process, and the
checks of what must hold at the end (issue 15, "Faults, and what must hold").
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from central.commands import CommandSender
from central.store import Store
from tests.app.fakes import T0_WALL
from tests.app.harness import DAY, iso, owner_key
from tests.domain.helpers import OWNER_KEYS

from .postgres import Postgres
from .rabbit import Node, RabbitCluster
from .runner import LINK_SETTINGS, locker_id

ROOT = Path(__file__).resolve().parent.parent.parent
SITE = "fleet"
CITIZEN = "11010519491231002X"  # a GB 11643 specimen number
DRAIN_S = 180.0  # every outbox acknowledged, after the load stopped


def reserve(name: str, prefix: str = "reserve") -> dict[str, object]:
    """One certificate per locker, the same command_id every time it is sent."""
    return {
        "command_id": f"{prefix}-{name}",
        "expires_at": iso(time.time() + 3_600),
        "application": f"HH-{name}",
        "owner_key": owner_key(CITIZEN),
        "key_version": OWNER_KEYS.current,
        "size": "M",
        "department": "tax",
        "deadline": iso(T0_WALL + 3 * DAY),  # the lockers' (fake) clock starts at T0_WALL
    }


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def _spawn(name: str, argv: list[str], directory: Path) -> Child:
    log_path = directory / f"{name}.log"
    out = log_path.open("ab")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, *argv], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env
    )
    out.close()
    return Child(name, process, log_path)


@dataclass
class Fleet:
    """``count`` lockers in ``processes`` runner processes (contiguous index ranges)."""

    directory: Path
    brokers: str
    count: int
    processes: int = 1
    event_interval: float = 2.0
    first: int = 0
    # The links' poll_interval_s and the runners' report interval (profile.py); None:
    # the runner's defaults (FLEET_POLL_S / FLEET_STATUS_EVERY_S, or 1 s)
    poll_s: float | None = None
    status_every_s: float | None = None
    protocol: str = "3.1.1"  # the lockers' [mqtt] protocol: RabbitMQ 3.10 speaks 3.1.1 only
    runners: list[Child] = field(default_factory=list)

    def status_path(self, n: int) -> Path:
        return self.directory / f"runner{n}.json"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        per = -(-self.count // self.processes)
        for n in range(self.processes):
            first = self.first + n * per
            count = min(per, self.first + self.count - first)
            if count <= 0:
                break
            self.runners.append(
                _spawn(
                    f"runner{n}",
                    [
                        "-m",
                        "tests.fleet.runner",
                        "--dir",
                        str(self.directory / "lockers"),
                        "--site",
                        SITE,
                        "--first",
                        str(first),
                        "--count",
                        str(count),
                        "--brokers",
                        self.brokers,
                        "--event-interval",
                        str(self.event_interval),
                        "--status",
                        str(self.status_path(n)),
                        "--protocol",
                        self.protocol,
                        *self._settings(),
                    ],
                    self.directory,
                )
            )

    def _settings(self) -> list[str]:
        chosen = {"--poll-s": self.poll_s, "--status-every-s": self.status_every_s}
        return [
            part for key, value in chosen.items() if value is not None for part in (key, str(value))
        ]

    def names(self) -> list[str]:
        return [locker_id(i) for i in range(self.first, self.first + self.count)]

    def status(self) -> dict[str, Any]:
        """The runners' last reports merged: lockers, connected, cpu_s, rss_kib, threads."""
        merged: dict[str, Any] = {
            "lockers": {},
            "connected": 0,
            "cpu_s": 0.0,
            "rss_kib": 0,
            "threads": 0,
            "reports": 0,
            "quiet": True,
        }
        for n, runner in enumerate(self.runners):
            if not runner.alive():
                raise RuntimeError(f"{runner.name} exited:\n{runner.log()[-3000:]}")
            path = self.status_path(n)
            if not path.exists():
                continue
            report = json.loads(path.read_text())
            merged["lockers"].update(report["lockers"])
            for key in ("connected", "cpu_s", "rss_kib", "threads"):
                merged[key] += report[key]
            merged["reports"] += 1
            merged["quiet"] = merged["quiet"] and report["quiet"]
        return merged

    def stop_load(self) -> None:
        for runner in self.runners:
            runner.process.send_signal(signal.SIGUSR1)

    def stop(self) -> None:
        for runner in self.runners:
            runner.terminate()

    def wait(
        self, condition: Callable[[dict[str, Any]], bool], timeout: float, what: str
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = self.status()
            if status["reports"] == len(self.runners) and condition(status):
                return status
            time.sleep(0.5)
        raise TimeoutError(f"{what} not reached in {timeout} s: {summary(status)}\n{self.stacks()}")

    def stacks(self) -> str:
        """Every runner's event-loop stack (SIGUSR2, faulthandler) and the age of its last
        report: what a failed wait needs to tell a stuck runner from a slow world."""
        for runner in self.runners:
            if runner.alive():
                runner.process.send_signal(signal.SIGUSR2)
        time.sleep(1.0)
        parts = []
        for n, runner in enumerate(self.runners):
            path = self.status_path(n)
            age = time.time() - json.loads(path.read_text())["at"] if path.exists() else None
            said = "no report" if age is None else f"last report {age:.1f} s old"
            parts.append(f"--- {runner.name} ({said}):\n{own_stacks(runner.log())}")
        return "\n".join(parts)


def own_stacks(log: str) -> str:
    """A runner's log lines (the last 2,000 characters of them) and, of its last stack
    dump, the thread that runs the runner's own code (the event loop): the paho threads'
    stacks are many and alike."""
    lines: list[str] = []
    stacks: list[list[str]] = []
    in_stack = False
    for line in log.splitlines():
        if line.startswith(("Thread 0x", "Current thread 0x", "Stack (most recent")):
            stacks.append([line])
            in_stack = True
        elif in_stack and line.startswith("  "):
            stacks[-1].append(line)
        else:
            in_stack = False
            if line.strip():
                lines.append(line)
    mine = [stack for stack in stacks if any("tests/fleet/runner.py" in f for f in stack)]
    return "\n".join(lines)[-2000:] + ("\n" + "\n".join(mine[-1]) if mine else "")


def all_connected(count: int) -> Callable[[dict[str, Any]], bool]:
    return lambda s: len(s["lockers"]) == count and s["connected"] == count


def connected_to(status: dict[str, Any], port: int) -> set[str]:
    """The lockers a report shows connected to the broker on ``port``."""
    return {
        name
        for name, locker in status["lockers"].items()
        if locker["connected"] and str(locker.get("broker") or "").endswith(f":{port}")
    }


def busiest_node(
    cluster: RabbitCluster, status: dict[str, Any], among: list[int] | None = None
) -> Node:
    """Of the running nodes (numbers in ``among``, default all), the one with the most
    lockers connected in ``status``: the node to kill. Not a fixed one: a node can refuse
    its whole share at the start (RabbitMQ answers "server unavailable" while its MQTT
    client id tracker is not ready), and those lockers start on the next node."""
    nodes = [node for node in cluster.running_nodes() if among is None or node.index in among]
    return max(nodes, key=lambda node: len(connected_to(status, node.mqtt_port)))


def reconnected(
    before: dict[str, Any], names: set[str], count: int
) -> Callable[[dict[str, Any]], bool]:
    """Every locker connected, and each of ``names`` connected again since ``before`` (a
    report from before the fault: the runners report once a second, so "all connected"
    alone could be read from a report written before the lockers noticed)."""

    def check(s: dict[str, Any]) -> bool:
        lockers = s["lockers"]
        return all_connected(count)(s) and all(
            lockers[name]["connects"] > before["lockers"][name]["connects"] for name in names
        )

    return check


def drained(count: int) -> Callable[[dict[str, Any]], bool]:
    """Every locker connected and its whole outbox acknowledged by the central system, in a
    report read after the load stopped (``quiet``), so that no event follows its heads."""

    def check(s: dict[str, Any]) -> bool:
        lockers = s["lockers"].values()
        return (
            s["quiet"]
            and len(s["lockers"]) == count
            and s["connected"] == count
            and all(one["pending"] == 0 and one["acked_seq"] == one["head_seq"] for one in lockers)
        )

    return check


SHOWN_AWAY = 20  # lockers not connected, listed when a wait fails


def summary(status: dict[str, Any]) -> str:
    lockers = status.get("lockers", {})
    pending = sum(one["pending"] for one in lockers.values())
    # The first lockers not connected, as their runners last saw them: what a failed wait
    # needs to tell a locker still backing off from one refused or one stuck mid-connect.
    away = [(name, one) for name, one in sorted(lockers.items()) if not one["connected"]]
    return (
        f"{len(lockers)} lockers reported, {status.get('connected')} connected, "
        f"{pending} events pending"
        + "".join(f"\n  {name}: {one}" for name, one in away[:SHOWN_AWAY])
    )


@dataclass
class Central:
    """The reference central system: its database and its consumer processes."""

    directory: Path
    postgres: Postgres
    amqp: str  # RabbitMQ's nodes; or, with ``mqtt``, unused
    mqtt: str | None = None  # an MQTT 5 broker: the consumers share a subscription there
    consumers: list[Child] = field(default_factory=list)

    def init(self, lockers: list[str]) -> None:
        store = Store(self.postgres.dsn, "test")
        try:
            store.create_schema()
            for name in lockers:
                store.register(SITE, name)
        finally:
            store.close()

    def start_consumer(self, n: int) -> Child:
        child = _spawn(
            f"consumer{n}",
            [
                "-m",
                "central",
                "consume",
                "--dsn",
                self.postgres.dsn,
                *(("--mqtt", self.mqtt) if self.mqtt else ("--amqp", self.amqp)),
                "--name",
                f"consumer{n}",
                "--statistics",
                str(self.directory / f"consumer{n}.json"),
            ],
            self.directory,
        )
        self.consumers.append(child)
        return child

    def stop(self) -> None:
        for consumer in self.consumers:
            consumer.terminate(timeout=15)

    def statistics(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.directory.glob("consumer*.json")):
            found.append(json.loads(path.read_text()))
        return found

    def stored(self) -> dict[str, tuple[int, int, int, int]]:
        """Per locker: (events, distinct seqs, min seq, max seq) in PostgreSQL."""
        with psycopg.connect(self.postgres.dsn) as conn:
            rows = conn.execute(
                "SELECT locker, count(*), count(DISTINCT seq), min(seq), max(seq)"
                " FROM events WHERE site = %s GROUP BY locker",
                (SITE,),
            ).fetchall()
        return {row[0]: (int(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in rows}

    def count_events(self, event_type: str) -> dict[str, int]:
        with psycopg.connect(self.postgres.dsn) as conn:
            rows = conn.execute(
                "SELECT locker, count(*) FROM events WHERE site = %s AND type = %s GROUP BY locker",
                (SITE, event_type),
            ).fetchall()
        return {row[0]: int(row[1]) for row in rows}

    def payloads(self, locker: str, event_type: str) -> list[dict[str, Any]]:
        """The payloads of one locker's stored events of ``event_type``, in seq order."""
        with psycopg.connect(self.postgres.dsn) as conn:
            rows = conn.execute(
                "SELECT payload FROM events WHERE site = %s AND locker = %s AND type = %s"
                " ORDER BY seq",
                (SITE, locker, event_type),
            ).fetchall()
        return [dict(row[0]) for row in rows]

    def events_containing(self, text: str) -> int:
        """How many stored events have ``text`` anywhere in their payload."""
        with psycopg.connect(self.postgres.dsn) as conn:
            row = conn.execute(
                "SELECT count(*) FROM events"
                " WHERE site = %s AND strpos(upper(payload::text), %s) > 0",
                (SITE, text.upper()),
            ).fetchone()
        return int(row[0]) if row is not None else 0

    def acked(self) -> dict[str, int]:
        with psycopg.connect(self.postgres.dsn) as conn:
            rows = conn.execute(
                "SELECT locker, acked_seq FROM lockers WHERE site = %s", (SITE,)
            ).fetchall()
        return {row[0]: int(row[1]) for row in rows}


def gap_free_report(
    heads: dict[str, int], stored: dict[str, tuple[int, int, int, int]]
) -> list[str]:
    """Every locker's seqs 1..head each stored exactly once; what is wrong, else []."""
    problems = []
    for name, head in sorted(heads.items()):
        count, distinct, low, high = stored.get(name, (0, 0, 0, 0))
        if head == 0 and count == 0:
            continue
        if (count, distinct, low, high) != (head, head, 1, head):
            problems.append(
                f"{name}: head {head}, stored {count} rows, {distinct} seqs, {low}..{high}"
            )
    return problems


def every_event_stored(fleet: Fleet, central: Central, drain_s: float) -> dict[str, Any]:
    """The events' part of ``nothing_lost``: every outbox acknowledged within ``drain_s``,
    every seq in PostgreSQL once, the acks at the heads, no conflict, and no takeover sign
    (each id has one holder: node kills and cluster restarts must not look like a clone,
    mqtt_bridge/reconnect.py). The last status."""
    status = fleet.wait(drained(fleet.count), drain_s, "every outbox acknowledged")
    signs = {name: s["takeovers"] for name, s in status["lockers"].items() if s["takeovers"]}
    assert signs == {}, f"takeover signs without a clone: {signs}"
    heads = {name: s["head_seq"] for name, s in status["lockers"].items()}
    assert sum(heads.values()) > fleet.count  # the load made events everywhere
    assert gap_free_report(heads, central.stored()) == []
    assert central.acked() == heads
    statistics = central.statistics()
    assert sum(s["conflicts"] for s in statistics) == 0
    assert sum(s["invalid"] for s in statistics) == 0
    return status


def nothing_lost(
    fleet: Fleet, central: Central, sender: CommandSender, drain_s: float, prefix: str = "reserve"
) -> dict[str, Any]:
    """What must hold at the end (the load stopped): every outbox acknowledged within
    ``drain_s``, every seq in PostgreSQL once, the acks at the heads, no conflict, and
    every reserve the sender sent (``reserve(name, prefix)`` per locker, however many
    times) answered with one compartment and done once. The last status."""
    status = every_event_stored(fleet, central, drain_s)
    sender.connect()
    sender.collect(timeout_s=5.0)
    sender.close()
    assert set(sender.replies) == {f"{prefix}-{name}" for name in fleet.names()}
    for command_id, replies in sender.replies.items():
        compartments = {r["reply"].get("compartment") for r in replies}
        assert all(r["reply"]["ok"] for r in replies), (command_id, replies)
        assert len(compartments) == 1, (command_id, replies)
    assert central.count_events("certificate.reserved") == dict.fromkeys(fleet.names(), 1)
    return status


# The busiest second of MQTT connections the nodes may accept after a cluster restart
# (docs/fleet.md, "Reconnect storms"): three times the average, 2 N / reconnect_max_s,
# that the lockers' jittered back-off gives. Retrying in lockstep, all N would come at once.
STORM_PEAK_FACTOR = 3.0


def connection_cap(lockers: int) -> float:
    return STORM_PEAK_FACTOR * 2 * lockers / float(LINK_SETTINGS["reconnect_max_s"])


def cluster_brokers(cluster: RabbitCluster, kind: str) -> str:
    ports = [node.mqtt_port if kind == "mqtt" else node.amqp_port for node in cluster.nodes]
    return ",".join(f"127.0.0.1:{port}" for port in ports)


SUBACK_WITHIN_S = 60.0


def retained_online(
    ports: int | list[int], lockers: set[str], listen_s: float = 3.0, *, wait_all_s: float = 0.0
) -> set[str]:
    """Those of ``lockers`` whose retained ``status`` on the nodes at ``ports`` says online:
    what arrives in ``listen_s`` after the subscriptions are acknowledged (which may take
    up to ``SUBACK_WITHIN_S``) or, with ``wait_all_s``, as soon as all are found (at most
    that long: a loaded cluster takes seconds to send a few hundred retained messages).

    One subscription per topic: RabbitMQ 3.10 sends retained messages only to a
    subscription naming the exact topic, never to a wildcard (docs/fleet.md)."""
    found: dict[str, str] = {}
    probes = []
    for port in [ports] if isinstance(ports, int) else ports:
        probes.append(_RetainedProbe(port, lockers, found))
    try:
        # A loaded node takes seconds to acknowledge a few hundred subscriptions; what is
        # retained comes after that.
        subscribed_by = time.monotonic() + SUBACK_WITHIN_S
        for probe in probes:
            probe.wait_subscribed(subscribed_by)
        deadline = time.monotonic() + max(listen_s, wait_all_s)
        quiet_until = time.monotonic() + listen_s
        while time.monotonic() < (deadline if wait_all_s else quiet_until):
            if wait_all_s and {n for n, state in found.items() if state == "online"} >= lockers:
                break
            time.sleep(0.1)
    finally:
        for probe in probes:
            probe.close()
    return {name for name, state in dict(found).items() if state == "online"}


class _RetainedProbe:
    """One node's retained ``status`` messages for ``lockers``, into ``found``."""

    def __init__(self, port: int, lockers: set[str], found: dict[str, str]) -> None:
        self.port = port
        self._subscribed = threading.Event()
        connected = threading.Event()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"probe-{port}-{time.monotonic_ns()}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )

        def on_message(c: mqtt.Client, u: object, message: mqtt.MQTTMessage) -> None:
            if message.retain:
                found[message.topic.split("/")[3]] = json.loads(message.payload)["state"]

        client.on_message = on_message
        client.on_connect = lambda *args: connected.set()
        client.on_subscribe = lambda *args: self._subscribed.set()
        client.connect("127.0.0.1", port, keepalive=30)
        client.loop_start()
        self.client = client
        if not connected.wait(10):
            self.close()
            raise AssertionError(f"no connection to {port}")
        client.subscribe([(f"lockers/v1/{SITE}/{name}/status", 1) for name in sorted(lockers)])

    def wait_subscribed(self, deadline: float) -> None:
        if not self._subscribed.wait(max(1.0, deadline - time.monotonic())):
            raise AssertionError(f"no SUBACK from {self.port}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
