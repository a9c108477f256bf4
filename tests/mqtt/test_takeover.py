"""Two lockers with one client id (a cloned SD card) on a real Mosquitto: each keeps
taking the other's session; both must see it, raise ``client_id_conflict`` and back off
instead of taking it every second (docs/fleet.md, "A client id used twice")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mqtt_bridge import CLIENT_ID_CONFLICT, MqttBridge
from tests.app.harness import Locker

from .harness import bridge_config, bridge_for, running
from .test_events import _until

BACKOFF_S = 6


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
        await _until(lambda: alarmed(first) and alarmed(second), 12 * BACKOFF_S)
        before = [first.statistics().connects, second.statistics().connects]
        await asyncio.sleep(BACKOFF_S)
        after = [first.statistics().connects, second.statistics().connects]
        assert alarmed(first) and alarmed(second)
    # Taking turns every second (reconnect_min_s) would have been 6 or more connections;
    # backing off for 3 to 6 s each, the two make at most a few.
    assert sum(after) - sum(before) <= 3, (before, after)
    for bridge in (first, second):
        stats = bridge.statistics()
        assert stats.takeovers >= 3
        assert stats.connects >= 2
    await original.close()
    await clone.close()
