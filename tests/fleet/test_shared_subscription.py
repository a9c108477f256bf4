"""The reference central system on an MQTT 5 broker (issue 15, "A central system scaled
out"): two consumer processes share the events through a shared subscription
(``$share/central/...``, central/mqtt_consumer.py) on a real Mosquitto, the lockers
speaking MQTT 5. Under load one consumer is killed (``kill -9``) and started again with
its name (its session), and PostgreSQL is restarted. At the end: every locker's seq
gap-free in PostgreSQL once, every outbox acknowledged, both processes having stored a
share.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mqtt.broker import Mosquitto

from .postgres import Postgres
from .profile import Profile
from .world import DRAIN_S, Central, Fleet, all_connected, every_event_stored

CONSUMERS = 2


@pytest.fixture
def mosquitto(world_dir: Path, profile: Profile) -> Iterator[Mosquitto]:
    broker = Mosquitto(
        world_dir / "mosquitto",
        lines=["allow_anonymous true", "max_queued_messages 100000"],
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


def test_consumers_sharing_a_subscription_lose_nothing(
    profile: Profile, mosquitto: Mosquitto, postgres: Postgres, world_dir: Path
) -> None:
    address = f"127.0.0.1:{mosquitto.port}"
    central = Central(world_dir / "central", postgres, amqp="", mqtt=address)
    central.directory.mkdir()
    fleet = Fleet(
        world_dir / "fleet",
        address,
        profile.lockers,
        processes=profile.runner_processes,
        event_interval=profile.event_interval_s,
        poll_s=profile.poll_s,
        status_every_s=profile.status_every_s,
        protocol="5",
    )
    central.init(fleet.names())
    for n in range(CONSUMERS):
        central.start_consumer(n)
    try:
        fleet.start()
        fleet.wait(
            all_connected(profile.lockers), 120 + 0.25 * profile.lockers, "every locker connected"
        )
        time.sleep(profile.load_s)

        # 1. one consumer killed under load; the other takes every event meanwhile; then
        # it comes back with its name, and the broker sends what was in flight to it.
        central.consumers[0].kill()
        time.sleep(profile.load_s / 2)
        central.start_consumer(0)

        # 2. PostgreSQL restarted under load: the consumers' transactions fail, the
        # deliveries are not acknowledged and come again.
        postgres.restart()
        time.sleep(profile.load_s / 2)

        fleet.stop_load()
        every_event_stored(fleet, central, DRAIN_S)
        statistics = central.statistics()
        assert len(statistics) == CONSUMERS
        assert all(one["stored"] > 0 for one in statistics), statistics
        assert sum(one["database_failures"] for one in statistics) > 0, statistics
        print(
            "shared subscription: "
            + "; ".join(
                f"consumer {n}: stored {one['stored']}, duplicates {one['duplicates']}, "
                f"database failures {one['database_failures']}"
                for n, one in enumerate(statistics)
            )
        )
        logs = "".join(consumer.log() for consumer in central.consumers)
        assert "$share/central/lockers/v1/+/+/events" in logs
    finally:
        fleet.stop()
        central.stop()
