"""A fleet on a RabbitMQ cluster with the reference central system, through faults
(issue 15): kill -9 of a broker node under load, a consumer process killed, PostgreSQL
restarted, the whole cluster restarted. At the end: 0 events lost (every locker's seq
gap-free in PostgreSQL), duplicates only of the same event_id, every locker back
online with its outbox acknowledged; an unknown locker's events stored nowhere.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

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
    busiest_node,
    cluster_brokers,
    connected_to,
    connection_cap,
    nothing_lost,
    reconnected,
    reserve,
    retained_online,
)

STRANGER = 9000  # a locker the central system does not know


def test_faults_lose_nothing(
    profile: Profile, cluster: RabbitCluster, postgres: Postgres, world_dir: Path
) -> None:
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
    stranger = Fleet(world_dir / "stranger", fleet.brokers, 1, first=STRANGER)
    central.init(fleet.names())
    for n in range(profile.consumers):
        central.start_consumer(n)
    try:
        fleet.start()
        stranger.start()
        # Starting is not a fault: a runner opens its lockers' databases one after another
        # (1,000 lockers: about a minute on two cores) before its first report.
        fleet.wait(
            all_connected(profile.lockers), 120 + 0.25 * profile.lockers, "every locker connected"
        )
        sender = CommandSender(brokers_from(central.amqp), name="test")
        for name in fleet.names():
            sender.send(SITE, name, "reserve", reserve(name))
        time.sleep(profile.load_s)

        # 1. kill -9 of a node under load (the one with the most lockers): its lockers go
        # to the other nodes. Which lockers those are is read from the runners, not from
        # the order the lockers try the nodes in: a node still booting answers "server
        # unavailable", and the lockers it refused started on the next one.
        before = fleet.status()
        victim = busiest_node(cluster, before)
        moved = connected_to(before, victim.mqtt_port)
        assert moved, "no locker on any node"
        # The other nodes that hold lockers: one may hold none because its MQTT side never
        # came up (it refused its share at the start), and it would not answer a subscriber.
        others = [
            node.mqtt_port
            for node in cluster.nodes
            if node is not victim and connected_to(before, node.mqtt_port)
        ]
        # Retained messages are the node's own: the status each of these lockers published
        # through the victim is not on another node.
        assert retained_online(others[0], moved) == set()
        killed = time.monotonic()
        cluster.kill(victim.index)
        fleet.wait(
            reconnected(before, moved, profile.lockers), 60, "every locker back after a node kill"
        )
        print(
            f"node kill: node {victim.index} had {len(moved)} lockers; all {profile.lockers} "
            f"connected again after {time.monotonic() - killed:.1f} s"
        )
        # ... and the moved lockers' status is online on the node each now uses only
        # because each published it again there.
        online = retained_online(others, moved, wait_all_s=60.0)
        assert moved <= online, sorted(moved - online)[:10]

        # The central system did not wait for every reply and sends each reserve again
        # (same command_id) through another node: the lockers do each one once.
        sender.close()
        for name in fleet.names():
            sender.send(SITE, name, "reserve", reserve(name))

        # 2. one consumer killed under load; the others take its share.
        central.consumers[0].kill()
        time.sleep(profile.load_s / 2)

        # 3. PostgreSQL restarted under load.
        postgres.restart()
        cluster.start(victim.index)
        time.sleep(profile.load_s / 2)

        # 4. the whole cluster restarted: a reconnect storm.
        killed_at = datetime.now(UTC)
        before = fleet.status()
        cluster.kill_all()
        cluster.start_all()
        # The lockers' part is measured from the moment the last node finished booting
        # (RabbitMQ 3.10 itself may take minutes after a full kill: docs/fleet.md).
        ready = max(cluster.started_at(node) or killed_at for node in cluster.nodes)
        fleet.wait(
            reconnected(before, set(fleet.names()), profile.lockers),
            profile.reconnect_within_s,
            "every locker connected after a cluster restart",
        )
        back = datetime.now(UTC)
        accepted = mqtt_connections(cluster, killed_at)
        print(
            f"cluster restart: the nodes booted {(ready - killed_at).total_seconds():.1f} s after "
            f"the kill; all {profile.lockers} lockers connected by "
            f"{(back - ready).total_seconds():.1f} s after the last node booted; the brokers "
            f"accepted {len(accepted)} MQTT connections, at most {peak_rate(accepted)} in any "
            f"second (the cap: {connection_cap(profile.lockers + 1):.1f})"
        )
        assert peak_rate(accepted) <= connection_cap(profile.lockers + 1)  # and the stranger
        central.start_consumer(profile.consumers)
        time.sleep(profile.load_s / 2)

        fleet.stop_load()
        nothing_lost(fleet, central, sender, DRAIN_S)

        # The stranger's events reached the consumers, were refused and stored nowhere.
        assert "L9000" not in central.stored()
        statistics = central.statistics()
        assert sum(s["unknown_locker"] for s in statistics) > 0
        logs = "".join(consumer.log() for consumer in central.consumers)
        assert f"unknown locker {SITE}/L9000: stored nothing" in logs
    finally:
        fleet.stop()
        stranger.stop()
        central.stop()
