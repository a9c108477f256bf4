"""Client ids on the cluster (issue 15, "Bad input at fleet scale"; docs/fleet.md, "A client
id used twice"): a fleet that replaced an earlier one on the same client ids (new
databases; the cluster kept the old sessions and the old retained statuses) raises no
alarm and comes back from a node kill in seconds. (A clone on the cluster is not
tested here: docs/fleet.md says what was seen.)
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


def alarmed(status: dict[str, Any]) -> set[str]:
    return {
        name for name, locker in status["lockers"].items() if CLIENT_ID_CONFLICT in locker["alarms"]
    }


def test_replaced_lockers_raise_nothing_and_come_back_from_a_node_kill(
    profile: Profile, cluster: RabbitCluster, world_dir: Path
) -> None:
    brokers = cluster_brokers(cluster, "mqtt")

    def fleet(tag: str) -> Fleet:
        return Fleet(
            world_dir / tag,
            brokers,
            profile.lockers,
            processes=profile.runner_processes,
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
    finally:
        earlier.stop()
        now.stop()
