"""Two lockers with one client id (a cloned SD card) on a real Mosquitto: each takes the
other's session when it connects; both must see it (the other's retained status, from a
boot not their own), raise ``client_id_conflict`` and back off instead of taking it
every second (docs/fleet.md, "A client id used twice"). And one locker alone, restarted,
finds only its own earlier boots on its status and raises nothing; nor does a locker that
replaced another (a new database on the same id), finding its predecessor's status."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from mqtt_bridge import CLIENT_ID_CONFLICT, MqttBridge
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
