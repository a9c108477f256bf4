"""Client ids on the cluster (issue 15, "Bad input at fleet scale"; docs/fleet.md, "A client
id used twice"): a fleet that replaced an earlier one on the same client ids (new
databases; the cluster kept the old sessions and the old retained statuses) raises no
alarm and comes back from a node kill in seconds; a clone of one of its lockers (a
second process on the same id) makes both holders raise ``client_id_conflict`` and
leaves the others alone.
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

CLONE_ALARM_S = 60.0  # the clone and the original each see the other within a few rounds


def alarmed(status: dict[str, Any]) -> set[str]:
    return {
        name for name, locker in status["lockers"].items() if CLIENT_ID_CONFLICT in locker["alarms"]
    }


def test_replaced_lockers_raise_nothing_and_a_clone_is_caught(
    profile: Profile, cluster: RabbitCluster, world_dir: Path
) -> None:
    brokers = cluster_brokers(cluster, "mqtt")

    def fleet(tag: str, count: int = profile.lockers, first: int = 0) -> Fleet:
        return Fleet(
            world_dir / tag,
            brokers,
            count,
            processes=min(profile.runner_processes, count),
            event_interval=profile.event_interval_s,
            first=first,
            poll_s=profile.poll_s,
            status_every_s=profile.status_every_s,
        )

    earlier, now = fleet("earlier"), fleet("now")
    clone = fleet("clone", count=1)
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

        # 4. A clone of the first locker (another machine, its own database, the same id):
        # the two take the session from each other until both raise the alarm.
        clone.start()
        deadline = time.monotonic() + CLONE_ALARM_S
        while time.monotonic() < deadline:
            if alarmed(now.status()) == {"L0000"} and alarmed(clone.status()) == {"L0000"}:
                break
            time.sleep(1.0)
        original, copy = now.status()["lockers"]["L0000"], clone.status()["lockers"]["L0000"]
        assert CLIENT_ID_CONFLICT in original["alarms"], original
        assert CLIENT_ID_CONFLICT in copy["alarms"], copy
        assert alarmed(now.status()) == {"L0000"}  # the others are left alone
        print(
            f"clone: both holders alarmed after {CLONE_ALARM_S - (deadline - time.monotonic()):.1f}"
            f" s; connects {original['connects']} and {copy['connects']}"
        )
    finally:
        earlier.stop()
        now.stop()
        clone.stop()
