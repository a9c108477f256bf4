"""Client ids on the cluster (issue 15, "Bad input at fleet scale"; docs/fleet.md, "A client
id used twice"): a fleet that replaced an earlier one on the same client ids (new
databases; the cluster kept the old sessions and the old retained statuses) raises no
alarm and comes back from a node kill in seconds; a clone of one of its lockers (a
second process on the same id, on another node) is caught: the two take the session from
each other until one of them sees the loop (mqtt_bridge/reconnect.py), raises
``client_id_conflict`` and backs off; the others are left alone.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mqtt_bridge import CLIENT_ID_CONFLICT

from .profile import Profile
from .rabbit import RabbitCluster
from .world import (
    Fleet,
    all_connected,
    busiest_node,
    cluster_brokers,
    connected_to,
    reconnected,
)

CLONE_ALARM_S = 60.0  # three rounds of the loop take a few seconds


def alarmed(status: dict[str, Any]) -> set[str]:
    return {
        name for name, locker in status["lockers"].items() if CLIENT_ID_CONFLICT in locker["alarms"]
    }


def test_replaced_lockers_raise_nothing_and_a_clone_is_caught(
    profile: Profile, cluster: RabbitCluster, world_dir: Path
) -> None:
    brokers = cluster_brokers(cluster, "mqtt")

    def fleet(tag: str, count: int = profile.lockers, on: str = brokers) -> Fleet:
        return Fleet(
            world_dir / tag,
            on,
            count,
            processes=min(profile.runner_processes, count),
            event_interval=profile.event_interval_s,
            poll_s=profile.poll_s,
            status_every_s=profile.status_every_s,
        )

    earlier, now = fleet("earlier"), fleet("now")
    starting_s = 120 + 0.25 * profile.lockers  # a runner opens its databases one by one
    try:
        # 1. The earlier fleet connects and stops: the cluster keeps its sessions (quorum
        # queues, clean session off) and each node its retained statuses.
        earlier.start()
        earlier.wait(all_connected(profile.lockers), starting_s, "the earlier fleet connected")
        earlier.stop()

        # 2. Its replacement, new databases on the same ids, finds the earlier boots'
        # statuses (retained, and queued in the kept sessions): history, no alarm.
        now.start()
        status = now.wait(all_connected(profile.lockers), starting_s, "the new fleet connected")
        time.sleep(5.0)
        status = now.status()
        assert alarmed(status) == set()
        assert sum(one["takeovers"] for one in status["lockers"].values()) == 0
        logs = "".join(runner.log() for runner in now.runners)
        assert logs.count("before ours") >= profile.lockers, "the old statuses were not seen"

        # 3. A node killed: its lockers go to the others at once, not after
        # takeover_backoff_s (300 s), which they would wait had they raised the alarm.
        before = now.status()
        victim = busiest_node(cluster, before)
        moved = connected_to(before, victim.mqtt_port)
        killed = time.monotonic()
        cluster.kill(victim.index)
        now.wait(reconnected(before, moved, profile.lockers), 60, "back after a node kill")
        print(
            f"replaced fleet, node kill: {len(moved)} lockers on node {victim.index}, all "
            f"{profile.lockers} connected again after {time.monotonic() - killed:.1f} s"
        )
        assert alarmed(now.status()) == set()

        # 4. A clone of the first locker (another machine, its own database, the same id)
        # on another live node than the original's: neither can see the other's status
        # (one session queue, each node its own retained store); the loop is the sign.
        held_on = str(now.status()["lockers"]["L0000"]["broker"])
        others = [
            node for node in cluster.running_nodes() if not held_on.endswith(f":{node.mqtt_port}")
        ]
        ports = [node.mqtt_port for node in others] + [victim.mqtt_port]
        clone = fleet("clone", 1, ",".join(f"127.0.0.1:{port}" for port in ports))
        try:
            clone.start()
            started = time.monotonic()
            while time.monotonic() - started < CLONE_ALARM_S:
                if alarmed(now.status()) | alarmed(clone.status()):
                    break
                time.sleep(0.5)
            original, copy = now.status(), clone.status()
            print(
                f"clone on :{ports[0]}, original on {held_on}: alarmed after "
                f"{time.monotonic() - started:.1f} s: original {sorted(alarmed(original))}, "
                f"clone {sorted(alarmed(copy))}; connects "
                f"{original['lockers']['L0000']['connects']} and "
                f"{copy['lockers']['L0000']['connects']}"
            )
            assert alarmed(original) | alarmed(copy) == {"L0000"}, "neither holder saw the loop"
            assert alarmed(original) <= {"L0000"}  # the others are left alone
        finally:
            clone.stop()
    finally:
        earlier.stop()
        now.stop()
