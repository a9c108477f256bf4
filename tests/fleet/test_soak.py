"""Mixed faults for a while (issue 15's long profile: 30 minutes at 1,000 lockers; the CI
profile: two and a half minutes at 50): kill -9 of a random broker node, a random
consumer process killed, PostgreSQL restarted and the whole cluster restarted, in a
random order (every kind once per round; the seed is printed, FLEET_SOAK_SEED repeats a
run), the load running between them for a random while. The same reserve is sent to
every locker again after each broker fault. At the end, the same verdict as
test_fleet.py: nothing lost, nothing doubled, every reserve done once, every locker back.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from central.commands import CommandSender
from central.consumer import brokers_from

from .postgres import Postgres
from .profile import Profile
from .rabbit import RabbitCluster, mqtt_connections, peak_rate
from .world import (
    DRAIN_S,
    SITE,
    Central,
    Fleet,
    all_connected,
    cluster_brokers,
    connected_to,
    connection_cap,
    nothing_lost,
    reconnected,
    reserve,
)

KINDS = ("node", "consumer", "database", "cluster")
PREFIX = "soak"  # the reserve's command_id: soak-{locker}


@dataclass
class Soak:
    profile: Profile
    cluster: RabbitCluster
    postgres: Postgres
    central: Central
    fleet: Fleet
    sender: CommandSender
    rng: random.Random
    done: list[str] = field(default_factory=list)  # one line per fault: what, how long

    def send_reserves(self) -> None:
        self.sender.close()  # its node may be the one that died
        for name in self.fleet.names():
            self.sender.send(SITE, name, "reserve", reserve(name, PREFIX))

    def node(self) -> None:
        index = self.rng.choice([node.index for node in self.cluster.nodes])
        before = self.fleet.status()
        moved = connected_to(before, self.cluster.node(index).mqtt_port)
        killed = time.monotonic()
        self.cluster.kill(index)
        self.fleet.wait(
            reconnected(before, moved, self.fleet.count), 60, f"every locker back, node {index}"
        )
        back = time.monotonic() - killed
        self.send_reserves()
        self.load()
        self.cluster.start(index)
        self.done.append(f"node {index} killed: {len(moved)} lockers moved, back in {back:.1f} s")

    def consumer(self) -> None:
        alive = [c for c in self.central.consumers if c.alive()]
        victim = self.rng.choice(alive)
        victim.kill()
        self.load()
        self.central.start_consumer(len(self.central.consumers))
        self.done.append(f"{victim.name} killed, another started after the load")

    def database(self) -> None:
        started = time.monotonic()
        self.postgres.restart()
        self.done.append(f"PostgreSQL restarted in {time.monotonic() - started:.1f} s")

    def cluster_restart(self) -> None:
        killed_at = datetime.now(UTC)
        before = self.fleet.status()
        self.cluster.kill_all()
        self.cluster.start_all()
        ready = max(self.cluster.started_at(node) or killed_at for node in self.cluster.nodes)
        self.fleet.wait(
            reconnected(before, set(self.fleet.names()), self.fleet.count),
            self.profile.reconnect_within_s,
            "every locker connected after a cluster restart",
        )
        back = datetime.now(UTC)
        accepted = mqtt_connections(self.cluster, killed_at)
        self.send_reserves()
        self.done.append(
            f"cluster restarted: booted {(ready - killed_at).total_seconds():.1f} s after the "
            f"kill, all connected {(back - ready).total_seconds():.1f} s after the last boot, "
            f"{len(accepted)} MQTT connections, at most {peak_rate(accepted)} in a second"
        )
        assert peak_rate(accepted) <= connection_cap(self.fleet.count), self.done[-1]

    def load(self) -> None:
        time.sleep(self.rng.uniform(*self.profile.fault_gap_s))

    def run(self, kind: str) -> None:
        started = time.monotonic()
        {
            "node": self.node,
            "consumer": self.consumer,
            "database": self.database,
            "cluster": self.cluster_restart,
        }[kind]()
        print(f"  +{self.done[-1]} ({time.monotonic() - started:.0f} s)", flush=True)


def test_mixed_faults_for_a_while_lose_nothing(
    profile: Profile, cluster: RabbitCluster, postgres: Postgres, world_dir: Path
) -> None:
    if profile.soak_s <= 0:
        pytest.skip(f"the {profile.name} profile has no soak (soak_s = 0)")
    seed = int(os.environ.get("FLEET_SOAK_SEED") or time.time())
    print(f"soak: {profile.soak_s:.0f} s of mixed faults, seed {seed}", flush=True)
    central = Central(world_dir / "central", postgres, cluster_brokers(cluster, "amqp"))
    central.directory.mkdir()
    fleet = Fleet(
        world_dir / "fleet",
        cluster_brokers(cluster, "mqtt"),
        profile.lockers,
        processes=profile.runner_processes,
        event_interval=profile.event_interval_s,
        poll_s=profile.poll_s,
        status_every_s=profile.status_every_s,
    )
    central.init(fleet.names())
    for n in range(profile.consumers):
        central.start_consumer(n)
    sender = CommandSender(brokers_from(central.amqp), name="soak")
    soak = Soak(profile, cluster, postgres, central, fleet, sender, random.Random(seed))
    try:
        fleet.start()
        fleet.wait(
            all_connected(profile.lockers), 120 + 0.25 * profile.lockers, "every locker connected"
        )
        soak.send_reserves()
        soak.load()
        started = time.monotonic()
        rounds = 0
        # Bounded: a round of four faults at most per pass, and no round begins after soak_s.
        while time.monotonic() - started < profile.soak_s:
            rounds += 1
            for kind in soak.rng.sample(KINDS, len(KINDS)):
                soak.run(kind)
                soak.load()
        print(
            f"soak: {len(soak.done)} faults in {rounds} rounds, {time.monotonic() - started:.0f} s",
            flush=True,
        )
        fleet.stop_load()
        status = nothing_lost(fleet, central, sender, DRAIN_S, prefix=PREFIX)
        print(
            f"soak: every outbox drained; {sum(s['head_seq'] for s in status['lockers'].values())}"
            " events stored once each",
            flush=True,
        )
        statistics = central.statistics()
        print(
            "soak: consumers stored "
            f"{sum(s['stored'] for s in statistics)}, dropped "
            f"{sum(s['duplicates'] for s in statistics)} duplicates "
            f"({sum(s['duplicates_remembered'] for s in statistics)} from memory)",
            flush=True,
        )
    finally:
        fleet.stop()
        central.stop()
