"""lockerd with its MQTT link, end to end: a real Mosquitto, the central system's
consumer acknowledging as the contract says, the simulator's boards and card reader.

What only the daemon can show: the bridge starts with `[mqtt]`, commits wake it,
`kill -9` leaves the Will and loses no event, SIGTERM says goodbye, a broker
restart is survived while the locker keeps serving the hall.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mqtt_bridge import Topics
from tests.mqtt.broker import Mosquitto, persistence_lines
from tests.mqtt.central import Central
from tests.mqtt.conftest import contract
from tests.mqtt.consumer import Consumer
from tests.mqtt.contract import Contract

from .conftest import Locker
from .lockerd import MARKET_CLERK, owner_key, run_cli, write_config
from .rig import wait_for

__all__ = ["contract"]

TOPICS = Topics("e2e", "L01")
WAIT_S = 15.0


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(
        tmp_path / "broker", lines=["allow_anonymous true", *persistence_lines(tmp_path / "b")]
    )
    mosquitto.start()
    try:
        yield mosquitto
    finally:
        mosquitto.kill()


@pytest.fixture
def locker_overrides(broker: Mosquitto) -> dict[str, Any]:
    return {
        "mqtt": {
            "host": "127.0.0.1",
            "port": broker.port,
            "keepalive_s": 5,
            "reconnect_min_s": 1,
            "reconnect_max_s": 1,
        }
    }


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="seconds")


def command(**fields: Any) -> dict[str, Any]:
    fields.setdefault("command_id", str(uuid.uuid4()))
    fields.setdefault("expires_at", iso(timedelta(hours=1)))
    return fields


def reservation(locker: Locker, application: str, who: str = "alice") -> dict[str, Any]:
    return command(
        application=application,
        owner_key=owner_key(locker.card[who]),
        key_version=1,
        size="S",
        department="market",
        deadline=iso(timedelta(days=3)),
    )


async def central_for(broker: Mosquitto, contract: Contract) -> Central:
    central = Central(broker.port, contract=contract)
    await central.connect()
    await central.subscribe(f"{TOPICS.root}/#")
    return central


async def consumer_for(broker: Mosquitto, contract: Contract) -> Consumer:
    consumer = Consumer(broker.port, TOPICS, contract, iso(timedelta(hours=1)))
    await consumer.start()
    return consumer


async def status(central: Central, **match: Any) -> dict[str, Any]:
    message = await central.receive(
        lambda m: (
            m.topic == TOPICS.status
            and m.payload != b""
            and all(m.json().get(k) == v for k, v in match.items())
        ),
        WAIT_S,
    )
    body: dict[str, Any] = message.json()
    return body


async def blocking(function: Any, *args: Any, **kwargs: Any) -> Any:
    """A blocking step of the rig or the daemon, off the event loop (paho delivers on it)."""
    return await asyncio.to_thread(function, *args, **kwargs)


def outbox_pending(locker: Locker) -> int:
    pending: int = locker.lockerd.admin("health")["mqtt"]["outbox_pending"]
    return pending


def boards_read(locker: Locker) -> None:
    """Until every board was read once (a compartment nobody has seen is not assigned)."""
    wait_for(
        lambda: set(locker.lockerd.admin("state")["state"]["boards"].values()) == {"online"},
        timeout=WAIT_S,
        what="every board read",
    )


def assert_gap_free(consumer: Consumer) -> list[str]:
    seqs = [event["seq"] for event in consumer.accepted]
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    assert len({event["event_id"] for event in consumer.accepted}) == len(seqs)
    return [event["type"] for event in consumer.accepted]


async def test_the_central_system_drives_the_locker_over_mqtt(
    locker: Locker, broker: Mosquitto, contract: Contract
) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    central = await central_for(broker, contract)
    consumer = await consumer_for(broker, contract)
    online = await status(central, state="online")
    await blocking(boards_read, locker)
    state = await central.receive(lambda m: m.topic == TOPICS.state, WAIT_S)
    assert state.json()["boot_id"] == online["boot_id"]
    assert len(state.json()["compartments"]) == len(locker.compartments())

    payload = reservation(locker, "APP-M1")
    reply = await central.request(TOPICS, "reserve", payload)
    assert reply["reply"]["ok"] and reply["reply"]["result"] == "reserved", reply
    cid = reply["reply"]["compartment"]
    again = await central.request(TOPICS, "reserve", payload)  # delivered twice
    assert again["reply"] == reply["reply"]
    stale = await central.request(
        TOPICS, "reserve", {**reservation(locker, "APP-M2"), "expires_at": iso(-timedelta(1))}
    )
    assert stale["reply"]["error"]["code"] == "expired"
    bad = await central.request(TOPICS, "reserve", command(application="APP-M3", size="XL"))
    assert not bad["reply"]["ok"] and bad["reply"]["error"]["code"] == "invalid"

    rig.staff_card(MARKET_CLERK)  # the clerk loads the certificate
    await blocking(lockerd.wait_event, "open.opened", purpose="load", compartment=cid)
    await blocking(rig.put, cid)
    await blocking(rig.close, cid)
    await blocking(lockerd.wait_event, "certificate.loaded", application="APP-M1")
    rig.swipe(locker.card["alice"])  # the citizen picks it up
    await blocking(lockerd.wait_event, "open.opened", purpose="pickup", compartment=cid)
    await blocking(rig.take, cid)
    await blocking(rig.close, cid)
    collected = await blocking(lockerd.wait_event, "certificate.collected", application="APP-M1")
    await consumer.wait_for(collected["seq"], timeout=WAIT_S)
    types = assert_gap_free(consumer)
    assert types.count("certificate.reserved") == 1  # the duplicate did nothing
    assert {"certificate.loaded", "certificate.collected"} <= set(types)
    assert "APP-M2" not in str(consumer.accepted)  # the stale command did nothing
    await blocking(wait_for, lambda: outbox_pending(locker) == 0, timeout=WAIT_S, what="acks")

    before = rig.unlock_writes(*locker.wiring("A02"), 0.0)
    opened = await central.request(TOPICS, "open", command(compartment="A02", reason="inspection"))
    assert opened["reply"]["ok"], opened
    await blocking(lockerd.wait_event, "open.opened", purpose="remote", compartment="A02")
    # One pulse; a second only if the door was seen open too late (a loaded machine).
    assert rig.unlock_writes(*locker.wiring("A02"), 0.0) in ((before or 0) + 1, (before or 0) + 2)
    await blocking(rig.close, "A02")

    await blocking(lockerd.stop)
    goodbye = await status(central, state="offline")
    assert goodbye["reason"] == "shutdown" and goodbye["boot_id"] == online["boot_id"]
    await consumer.stop()
    await central.close()


async def test_kill_9_leaves_the_will_and_loses_no_event(
    locker: Locker, broker: Mosquitto, contract: Contract
) -> None:
    lockerd = locker.lockerd
    central = await central_for(broker, contract)
    first = await status(central, state="online")
    await blocking(boards_read, locker)
    consumer = await consumer_for(broker, contract)
    await consumer.stop()  # its session stays on the broker, collecting events
    for i in range(6):
        reply = await central.request(TOPICS, "reserve", reservation(locker, f"APP-K{i}"))
        assert reply["reply"]["ok"], reply
    await blocking(lockerd.kill9)
    will = await status(central, state="offline")
    assert will["reason"] == "connection_lost" and will["boot_id"] == first["boot_id"]
    await blocking(lockerd.start)
    second = await status(central, state="online")
    assert second["boot_id"] != first["boot_id"]
    await consumer.start()
    head = (await blocking(lockerd.events))[-1]["seq"]
    await consumer.wait_for(head, timeout=WAIT_S)
    types = assert_gap_free(consumer)
    assert types.count("certificate.reserved") == 6
    assert types.count("locker.restarted") == 2
    await consumer.stop()
    await central.close()


async def test_the_locker_serves_the_hall_through_a_broker_restart(
    locker: Locker, broker: Mosquitto, contract: Contract
) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    consumer = await consumer_for(broker, contract)
    await blocking(boards_read, locker)
    reply = await blocking(lockerd.admin, "reserve", reservation(locker, "APP-B1"))
    assert reply["ok"], reply
    cid = reply["compartment"]
    await consumer.stop()
    broker.kill()
    await blocking(
        wait_for,
        lambda: not lockerd.admin("health")["mqtt"]["connected"],
        timeout=WAIT_S,
        what="the link to notice the broker is gone",
    )
    rig.staff_card(MARKET_CLERK)  # the hall goes on without its central system
    await blocking(lockerd.wait_event, "open.opened", purpose="load", compartment=cid)
    await blocking(rig.put, cid)
    await blocking(rig.close, cid)
    loaded = await blocking(lockerd.wait_event, "certificate.loaded", application="APP-B1")
    broker.start()
    await blocking(
        wait_for,
        lambda: lockerd.admin("health")["mqtt"]["connected"],
        timeout=WAIT_S,
        what="the link to reconnect",
    )
    await consumer.start()
    await consumer.wait_for(loaded["seq"], timeout=WAIT_S)
    assert "certificate.loaded" in assert_gap_free(consumer)
    await consumer.stop()


def test_mqtt_settings_are_checked_with_the_key_named(locker: Locker, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    bad = {**locker.config, "mqtt": {**locker.config["mqtt"], "username": "locker-e2e"}}
    write_config(path, bad)
    done = run_cli("run", "--config", str(path), timeout=30)
    assert done.returncode != 0
    assert "mqtt.username: needs password in the secrets file's [mqtt] table" in done.stderr
    typo = {**locker.config, "mqtt": {**locker.config["mqtt"], "hots": "x"}}
    write_config(path, typo)
    done = run_cli("check-config", str(path), timeout=30)
    assert done.returncode != 0 and "mqtt.hots: unknown key" in done.stderr
