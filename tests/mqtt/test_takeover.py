"""Two lockers with one client id (a cloned SD card) on a real Mosquitto: each takes the
other's session when it connects; both must see it (the other's retained status, from a
boot not their own), raise ``client_id_conflict`` and back off instead of taking it
every second (docs/fleet.md, "A client id used twice"). And one locker alone, restarted,
finds only its own earlier boots on its status and raises nothing; nor does a locker that
replaced another (a new database on the same id), finding its predecessor's status."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from mqtt_bridge import CLIENT_ID_CONFLICT, MqttBridge
from mqtt_bridge.reconnect import LOOP_SIGNS
from tests.app.harness import Locker

from .harness import WAIT_S, bridge_config, bridge_for, running
from .test_events import _until

BACKOFF_S = 8  # the waits are 4 to 8 s


def alarmed(bridge: MqttBridge) -> bool:
    return CLIENT_ID_CONFLICT in bridge.statistics().alarms


async def test_two_lockers_with_one_client_id_raise_the_alarm_and_back_off(
    broker, tmp_path: Path, contract
) -> None:
    original = await Locker.start(tmp_path / "original.db")
    clone = await Locker.start(tmp_path / "clone.db")
    config = bridge_config(broker.port, broker.protocol, takeover_backoff_s=BACKOFF_S)
    first, second = bridge_for(original, config), bridge_for(clone, config)
    async with running(first), running(second, connected=False):
        await _until(lambda: alarmed(first) and alarmed(second), 4 * BACKOFF_S)
        before = [first.statistics().connects, second.statistics().connects]
        await asyncio.sleep(BACKOFF_S / 2)
        after = [first.statistics().connects, second.statistics().connects]
        assert alarmed(first) and alarmed(second)
    # Taking turns every 0.5 to 1 s (reconnect_min_s) would make 4 to 8 connections in
    # these 4 s; waiting 4 to 8 s before each attempt, the two make one or two.
    assert sum(after) - sum(before) <= 2, (before, after)
    for bridge in (first, second):
        assert bridge.statistics().takeovers >= 1
    await original.close()
    await clone.close()


async def test_a_locker_restarted_on_its_own_id_raises_no_alarm(
    broker, db_path: Path, contract
) -> None:
    config = bridge_config(broker.port, broker.protocol, takeover_backoff_s=BACKOFF_S)
    locker = await Locker.start(db_path)
    earlier = str(locker.service.runner.boot_id)
    async with running(bridge_for(locker, config)):
        pass  # leaves its retained status: offline, reason shutdown, its boot id
    await locker.restart()
    assert str(locker.service.runner.boot_id) != earlier
    bridge = bridge_for(locker, config)
    async with running(bridge):
        # The retained status of its earlier boot was read and found to be its own.
        await _until(lambda: earlier in bridge._own_boots)
        assert not alarmed(bridge) and bridge.statistics().takeovers == 0
    await locker.close()


async def test_a_locker_replacing_another_on_its_id_raises_no_alarm(
    broker, tmp_path: Path, contract, caplog: pytest.LogCaptureFixture
) -> None:
    """A new locker (a new database) on the id of one that is gone finds the predecessor's
    retained status, published before its own: history, not a sign. Its connection lost
    afterwards, it comes back after the usual back-off, not after takeover_backoff_s."""
    config = bridge_config(broker.port, broker.protocol, takeover_backoff_s=300)
    predecessor = await Locker.start(tmp_path / "predecessor.db")
    gone = str(predecessor.service.runner.boot_id)
    async with running(bridge_for(predecessor, config)):
        pass  # leaves its retained status: offline, reason shutdown, its boot id
    await predecessor.close()
    successor = await Locker.start(tmp_path / "successor.db")
    bridge = bridge_for(successor, config)
    caplog.set_level(logging.WARNING, logger="mqtt_bridge")
    async with running(bridge):
        await _until(lambda: f"from boot {gone}" in caplog.text)
        broker.kill()
        broker.start()  # an empty broker on the same port: the connection is lost
        await _until(lambda: bridge.statistics().connects == 2, WAIT_S)
        stats = bridge.statistics()
    assert "before ours" in caplog.text
    assert stats.alarms == () and stats.takeovers == 0
    await successor.close()


def take_the_id(port: int, protocol: str, client_id: str) -> None:
    """One connection with the locker's client id that publishes nothing (not a locker of
    ours: an old firmware's clone, a tool), held briefly and ended in order."""
    if protocol == "5":
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id, protocol=paho.MQTTv5)
        client.connect("127.0.0.1", port, keepalive=30, clean_start=False)
    else:
        client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id, protocol=paho.MQTTv311, clean_session=False
        )
        client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    try:
        deadline = time.monotonic() + WAIT_S
        while not client.is_connected():
            assert time.monotonic() < deadline, "the stranger could not connect"
            time.sleep(0.02)
        time.sleep(0.2)
    finally:
        client.disconnect()
        client.loop_stop()


async def test_a_loop_of_takeovers_is_caught_without_any_status(
    broker, db_path: Path, contract, caplog: pytest.LogCaptureFixture
) -> None:
    """The sign a broker cluster gives (docs/fleet.md): the other holder's status never
    reaches us, but the broker keeps closing our connections soon after accepting them.
    Here the other holder publishes no status at all."""
    config = bridge_config(broker.port, broker.protocol, takeover_backoff_s=BACKOFF_S)
    locker = await Locker.start(db_path)
    bridge = bridge_for(locker, config)
    caplog.set_level(logging.WARNING, logger="mqtt_bridge")
    async with running(bridge):
        for _ in range(2 * LOOP_SIGNS):  # bounded: the alarm comes at the LOOP_SIGNS-th
            connects = bridge.statistics().connects
            await asyncio.to_thread(
                take_the_id, broker.port, broker.protocol, config.mqtt_client_id
            )
            if alarmed(bridge):
                break
            await _until(lambda: bridge.statistics().connects > connects, WAIT_S)  # noqa: B023
        stats = bridge.statistics()
    assert CLIENT_ID_CONFLICT in stats.alarms and stats.takeovers >= 1
    assert f"the broker closed {LOOP_SIGNS} connections in a row within 5 s" in caplog.text
    assert "disconnected: closed by the broker" in caplog.text
    await locker.close()


async def test_a_broker_restarted_again_and_again_is_no_takeover(
    broker, db_path: Path, contract
) -> None:
    """Killed right after each reconnect, once more than the loop sign needs, and started
    again once the locker has found it gone (a failed attempt): a broker being restarted,
    not a takeover. (One back within half of reconnect_min_s each time is not told apart:
    reconnect.py.)"""
    config = bridge_config(broker.port, broker.protocol, takeover_backoff_s=BACKOFF_S)
    locker = await Locker.start(db_path)
    bridge = bridge_for(locker, config)
    async with running(bridge):
        for n in range(2, 3 + LOOP_SIGNS):
            failures = bridge.statistics().connect_failures
            broker.kill()
            await _until(lambda: bridge.statistics().connect_failures > failures, WAIT_S)  # noqa: B023
            broker.start()
            await _until(lambda: bridge.statistics().connects == n, WAIT_S)  # noqa: B023
        stats = bridge.statistics()
    assert stats.alarms == () and stats.takeovers == 0, stats
    await locker.close()
