"""Two full lockers in the fleet world (issue 15: "plus a few full ``lockerd`` + simulator
instances doing real flows"): each a ``lockerd`` process against its own simulator (real
RTU bytes over pseudo-terminals, real SQLite), linked to the 3-node RabbitMQ cluster in
MQTT 3.1.1 through ``[mqtt] brokers``, with the reference central system storing their
events into PostgreSQL.

People use them while the brokers fail: a citizen drops a dossier off by ID card while
the node the locker is connected to is killed (``kill -9``), a central ``reserve`` sent
meanwhile waits for the locker in its session queue and is answered, a clerk loads the
certificate while the whole cluster is killed, and the citizen picks it up by ID card
before the cluster is back. At the end: every event of both lockers in PostgreSQL, gap
free by seq and acknowledged; the reserve, sent twice, done once; both lockers online
with their outboxes drained; the ID number in no log, no database file and no stored
event.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from central.commands import CommandSender
from central.consumer import brokers_from
from tests.e2e.conftest import assert_no_personal_data, commissioned_dbs
from tests.e2e.rig import wait_for

from .full import await_replies, full_locker
from .postgres import Postgres
from .profile import Profile
from .rabbit import RabbitCluster
from .world import SITE, Central, cluster_brokers, gap_free_report, retained_online

__all__ = ["commissioned_dbs"]

NAMES = ("F01", "F02")
CONSUMERS = 2
RECONNECT_S = 60.0  # back after one node's kill: a keepalive and a half, then a reconnect
DRAIN_S = 60.0
# What each locker's flows leave in PostgreSQL, besides its start-up events.
FLOW_EVENTS = (
    "open.opened",
    "dossier.deposited",
    "certificate.reserved",
    "certificate.loaded",
    "certificate.collected",
)


# A full cluster restart alone takes about 110 s here (docs/fleet.md); the default 120 s
# per test (pyproject.toml) would end the test in it when run without ./run.sh fleet.
@pytest.mark.timeout(600)
def test_full_lockers_serve_people_through_node_kills_and_a_cluster_restart(
    profile: Profile,
    cluster: RabbitCluster,
    postgres: Postgres,
    world_dir: Path,
    commissioned_dbs: Callable[[str], Path],
) -> None:
    central = Central(world_dir / "central", postgres, cluster_brokers(cluster, "amqp"))
    central.directory.mkdir()
    central.init(list(NAMES))
    for n in range(CONSUMERS):
        central.start_consumer(n)
    sender = CommandSender(brokers_from(central.amqp), name="full")
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            # F01 tries node 1 first, F02 node 2: the two kills below hit different nodes
            # (the second moves F01 again if F01 went to node 2 after the first).
            lockers = [
                stack.enter_context(
                    full_locker(
                        world_dir / name,
                        commissioned_dbs("sim"),
                        name,
                        cluster,
                        central,
                        first=n,
                    )
                )
                for n, name in enumerate(NAMES, 1)
            ]
            print(f"world up after {time.monotonic() - started:.1f} s")

            # 1. Each locker in turn: the citizen's door is open for the drop-off when the
            # node the locker is connected to dies. The deposit is made as the locker moves
            # to another node, and the central system's reserve, sent meanwhile, waits in
            # the locker's session queue (a quorum queue: it outlives the node).
            reserved: dict[str, str] = {}
            for locker in lockers:
                dropoff = locker.begin_dropoff()
                node = locker.node(cluster)
                before = locker.link()
                killed = time.monotonic()
                cluster.kill(node)
                sender.send(
                    SITE, locker.name, "reserve", locker.reservation(), within_s=RECONNECT_S
                )
                locker.finish_dropoff(dropoff)
                locker.wait_connected_again(before, RECONNECT_S)
                print(
                    f"{locker.name}: node {node} killed mid-drop-off; connected to node "
                    f"{locker.node(cluster)} {time.monotonic() - killed:.1f} s later"
                )
                command_id = locker.reservation()["command_id"]
                await_replies(sender, command_id, 1, RECONNECT_S)
                reply = sender.replies[command_id][0]["reply"]
                assert reply["ok"] and reply["result"] == "reserved", reply
                reserved[locker.name] = reply["compartment"]
                # Back to three nodes before the next kill: one of three is no majority
                # for the quorum queues and the client id registry.
                cluster.start(node)

            # 2. The tax clerk's door is open at each locker when the whole cluster is
            # killed. The hall goes on without it: the loads, then the citizens' pickups
            # by ID card, are made while no broker runs; their events wait in the outboxes.
            for locker in lockers:
                locker.begin_load(reserved[locker.name])
            before_restart = {locker.name: locker.link() for locker in lockers}
            killed = time.monotonic()
            cluster.kill_all()
            for locker in lockers:
                application = locker.reservation()["application"]
                locker.finish_load(reserved[locker.name], application)
                locker.pickup(reserved[locker.name], application)
            cluster.start_all()
            booted = time.monotonic()
            for locker in lockers:
                locker.wait_connected_again(before_restart[locker.name], profile.reconnect_within_s)
            print(
                f"cluster restart: booted {booted - killed:.1f} s after the kill; both "
                f"lockers connected {time.monotonic() - booted:.1f} s after that"
            )

            # The central system sends each reserve again (same command_id), as one that
            # missed the reply would: the locker answers from what it stored, and does
            # nothing twice.
            for locker in lockers:
                sender.send(
                    SITE, locker.name, "reserve", locker.reservation(), within_s=RECONNECT_S
                )
            for locker in lockers:
                await_replies(sender, locker.reservation()["command_id"], 2, RECONNECT_S)

            # Lockerd makes no event by itself once the people are done: the heads read
            # after the drain are final.
            for locker in lockers:
                wait_for(locker.drained, timeout=DRAIN_S, what=f"{locker.name} drained")
            heads = {locker.name: locker.link()["outbox_head_seq"] for locker in lockers}
            assert gap_free_report(heads, central.stored()) == []
            assert central.acked() == heads
            for locker in lockers:
                for kind in FLOW_EVENTS:
                    assert central.payloads(locker.name, kind), f"{locker.name}: no {kind}"
            assert central.count_events("certificate.reserved") == dict.fromkeys(NAMES, 1)
            for locker in lockers:
                replies = sender.replies[locker.reservation()["command_id"]]
                assert len(replies) == 2, replies
                assert {r["reply"]["compartment"] for r in replies} == {reserved[locker.name]}
                assert all(r["reply"]["ok"] for r in replies), replies

            # Online for the central system too: each locker's retained status on the
            # node it is connected to (retained messages are each node's own).
            for locker in lockers:
                port = cluster.node(locker.node(cluster)).mqtt_port
                assert retained_online(port, {locker.name}, wait_all_s=30.0) == {locker.name}

            central.stop()  # the consumers write their statistics as they end
            statistics = central.statistics()
            assert len(statistics) == CONSUMERS
            assert sum(s["conflicts"] + s["invalid"] + s["unknown_locker"] for s in statistics) == 0
            citizen = lockers[0].citizen
            print(f"both lockers' flows done {time.monotonic() - started:.1f} s after the start")
        # The lockerds ended by SIGTERM with 0, and their logs and SQLite files hold no ID
        # number (running_locker checked). Nor does anything else of the world: the
        # consumers' and brokers' logs, the brokers' queues on disk, PostgreSQL.
        assert central.events_containing(citizen[:14]) == 0
        files = [path for path in world_dir.rglob("*") if path.is_file() and not path.is_symlink()]
        assert_no_personal_data(files, {citizen})
    finally:
        sender.close()
        central.stop()
