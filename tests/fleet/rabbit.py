"""A real RabbitMQ cluster of three nodes on loopback ports, for the fleet tests and benchmarks.

Debian 12's ``rabbitmq-server`` (3.10, Erlang 25), installed by ``run.sh``. Each node
is a ``rabbitmq-server`` started as a child process with its own name
(``fleet<tag>-<n>@localhost``), its own AMQP, MQTT and Erlang distribution ports, and
its own data and log directories under ``directory``; the Erlang cookie is a file in
``directory`` (``HOME`` for the nodes and for ``rabbitmqctl``). The nodes find each
other through ``classic_config`` peer discovery, so the three start at once.

What each node runs (docs/fleet.md tells why):

* the MQTT plugin (MQTT 3.1.1) for the lockers, anonymous, with the lockers' session
  queues as quorum queues (``mqtt.durable_queue_type = quorum``), so that a locker's
  queued commands outlive the node that held its connection;
* AMQP for the central system, whose events queue is a quorum queue bound to
  ``amq.topic`` (the exchange the MQTT plugin publishes into).

``kill(n)`` is ``kill -9`` of one node's Erlang VM; ``start(n)`` brings it back on the
same data directory. ``epmd`` (Erlang's port mapper, one per machine, on 127.0.0.1:4369)
is started by the first node and left running, as Erlang does.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.mqtt.broker import listening_port

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
# RabbitMQ 3.10 can take minutes to boot after the whole cluster was killed: its MQTT
# plugin's client id tracker (a Raft cluster, mqtt_node) asks its peers for the members
# before restarting its own server, and the peers do the same (docs/fleet.md).
START_TIMEOUT_S = 300.0
STARTED = "Server startup complete"
STOP_TIMEOUT_S = 30.0


def installed() -> bool:
    return (RABBIT_BIN / "rabbitmq-server").exists() and shutil.which("erl") is not None


@dataclass
class Node:
    index: int
    name: str
    directory: Path
    amqp_port: int = field(default_factory=listening_port)
    mqtt_port: int = field(default_factory=listening_port)
    dist_port: int = field(default_factory=listening_port)
    process: subprocess.Popen[bytes] | None = None
    spawned_at: datetime | None = None  # wall clock, to read the log from

    @property
    def log_path(self) -> Path:
        return self.directory / "log" / f"{self.name}.log"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class RabbitCluster:
    directory: Path
    size: int = 3
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    nodes: list[Node] = field(init=False)

    def __post_init__(self) -> None:
        self.nodes = [
            Node(n, f"fleet{self.tag}-{n}@localhost", self.directory / f"node{n}")
            for n in range(1, self.size + 1)
        ]

    # -- the environment every node and every rabbitmqctl call shares ----------------

    def _environment(self, node: Node) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RABBITMQ_", "ERL_"))
        }
        env.update(
            HOME=str(self.directory),  # .erlang.cookie
            RABBITMQ_NODENAME=node.name,
            RABBITMQ_CONFIG_FILE=str(node.directory / "rabbitmq.conf"),
            RABBITMQ_MNESIA_BASE=str(node.directory / "mnesia"),
            RABBITMQ_LOG_BASE=str(node.directory / "log"),
            RABBITMQ_PLUGINS_EXPAND_DIR=str(node.directory / "plugins-expand"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(node.directory / "enabled_plugins"),
            RABBITMQ_ENABLED_PLUGINS="rabbitmq_mqtt",
            RABBITMQ_DIST_PORT=str(node.dist_port),
            # Schedulers that sleep when out of work instead of spinning: three Erlang VMs
            # share two cores with everything else here (the Erlang runtime's +sbwt flags;
            # a dedicated broker host keeps the default).
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} "
            "+sbwt none +sbwtdcpu none +sbwtdio none",
            ERL_EPMD_ADDRESS="127.0.0.1",
        )
        return env

    def _config(self, node: Node) -> str:
        peers = "\n".join(
            f"cluster_formation.classic_config.nodes.{peer.index} = {peer.name}"
            for peer in self.nodes
        )
        return f"""\
listeners.tcp.default = 127.0.0.1:{node.amqp_port}
mqtt.listeners.tcp.default = 127.0.0.1:{node.mqtt_port}
loopback_users = none
mqtt.allow_anonymous = true
mqtt.durable_queue_type = quorum
cluster_formation.peer_discovery_backend = classic_config
{peers}
log.console = false
log.file.level = info
"""

    # -- life ------------------------------------------------------------------------

    def start_all(self) -> None:
        if not installed():
            raise RuntimeError("rabbitmq-server is not installed (./run.sh installs it)")
        self.directory.mkdir(parents=True, exist_ok=True)
        cookie = self.directory / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(16))
            cookie.chmod(0o600)
        for node in self.nodes:
            if not node.running():
                self._spawn(node)
        for node in self.nodes:
            self._await_startup(node)

    def start(self, index: int) -> None:
        node = self.node(index)
        self._spawn(node)
        self._await_startup(node)

    def _spawn(self, node: Node) -> None:
        node.directory.mkdir(parents=True, exist_ok=True)
        (node.directory / "rabbitmq.conf").write_text(self._config(node))
        out = (node.directory / "server.out").open("ab")
        node.spawned_at = datetime.now(UTC)
        node.process = subprocess.Popen(
            [str(RABBIT_BIN / "rabbitmq-server")],
            env=self._environment(node),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # kill() reaches the VM and its port programs
        )
        out.close()

    def _await_startup(self, node: Node) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not node.running():
                raise RuntimeError(f"{node.name} exited:\n{self._tail(node)}")
            if (
                _listening(node.mqtt_port)
                and _listening(node.amqp_port)
                and self.started_at(node) is not None
            ):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{node.name} did not start in {START_TIMEOUT_S} s:\n{self._tail(node)}")

    def kill(self, index: int) -> None:
        """``kill -9`` of the node's whole process group: the VM dies with no goodbye."""
        node = self.node(index)
        if node.process is not None and node.process.poll() is None:
            os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(timeout=STOP_TIMEOUT_S)
        node.process = None

    def kill_all(self) -> None:
        for node in self.nodes:
            self.kill(node.index)

    def stop_all(self) -> None:
        """Clean stop (used in teardown), then kill -9 whatever is left."""
        for node in self.nodes:
            if node.running():
                assert node.process is not None
                os.killpg(node.process.pid, signal.SIGTERM)
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.kill(node.index)
            node.process = None

    # -- looking at it ----------------------------------------------------------------

    def node(self, index: int) -> Node:
        return self.nodes[index - 1]

    def running_nodes(self) -> list[Node]:
        return [node for node in self.nodes if node.running()]

    def ctl(self, index: int, *args: str, timeout: float = 60.0) -> str:
        """``rabbitmqctl`` (or another CLI tool via ``tool=``) against one node."""
        return self._cli("rabbitmqctl", index, *args, timeout=timeout)

    def queues_cli(self, index: int, *args: str, timeout: float = 60.0) -> str:
        return self._cli("rabbitmq-queues", index, *args, timeout=timeout)

    def _cli(self, tool: str, index: int, *args: str, timeout: float) -> str:
        node = self.node(index)
        done = subprocess.run(
            [str(RABBIT_BIN / tool), "-q", "-n", node.name, *args],
            env=self._environment(node),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} on {node.name} failed ({done.returncode}):\n"
                f"{done.stdout.decode(errors='replace')}{done.stderr.decode(errors='replace')}"
            )
        return done.stdout.decode(errors="replace")

    def wait_clustered(self, timeout: float = START_TIMEOUT_S) -> None:
        """Until every running node sees all running nodes as members."""
        deadline = time.monotonic() + timeout
        expected = {node.name for node in self.running_nodes()}
        last = ""
        while time.monotonic() < deadline:
            for node in self.running_nodes():
                last = self.ctl(node.index, "eval", "rabbit_nodes:all_running().")
                if not all(name in last for name in expected):
                    break
            else:
                return
            time.sleep(1.0)
        raise RuntimeError(f"the cluster did not form: {last}")

    def started_at(self, node: Node) -> datetime | None:
        """When the node's log said it finished booting (plugins included), since its spawn."""
        if node.spawned_at is None or not node.log_path.exists():
            return None
        for line in node.log_path.read_text(errors="replace").splitlines():
            if STARTED in line:
                at = datetime.fromisoformat(line[:32])
                if at >= node.spawned_at:
                    return at
        return None

    def _tail(self, node: Node, lines: int = 40) -> str:
        text = ""
        for path in (node.directory / "server.out", node.log_path):
            if path.exists():
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text


def mqtt_connections(cluster: RabbitCluster, since: datetime) -> list[datetime]:
    """When each node accepted an MQTT connection (its log's ``accepting MQTT connection``
    lines), from ``since`` on, sorted: the connection rate as the brokers saw it."""
    found = []
    for node in cluster.nodes:
        if not node.log_path.exists():
            continue
        for line in node.log_path.read_text(errors="replace").splitlines():
            if "accepting MQTT connection" not in line:
                continue
            at = datetime.fromisoformat(line[:32])
            if at >= since:
                found.append(at)
    return sorted(found)


def peak_rate(times: list[datetime], window_s: float = 1.0) -> int:
    """The most connections accepted within any ``window_s``."""
    peak, start = 0, 0
    for end, at in enumerate(times):
        while (at - times[start]).total_seconds() > window_s:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
