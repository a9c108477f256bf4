"""The daemon's supervisor of the bridge (locker_host/daemon/mqtt_link.py): commits wake
it, a failed bridge is started again while the locker goes on, stop() says goodbye."""

from __future__ import annotations

import asyncio
from pathlib import Path

from locker_host.daemon.mqtt_link import MqttLink, ServicePort
from tests.app.harness import Locker

from .central import Central
from .harness import TOPICS, WAIT_S, bridge_config


async def _connected(link: MqttLink, *, restarts: int) -> None:
    async with asyncio.timeout(WAIT_S):
        while not (link.statistics()["connected"] and link.restarts == restarts):
            await asyncio.sleep(0.02)


async def test_a_failed_bridge_is_started_again_and_stop_says_goodbye(
    broker, db_path: Path, contract
) -> None:
    locker = await Locker.start(db_path)
    # A long poll interval: without the commit listener, events would wait a minute.
    config = bridge_config(broker.port, broker.protocol, poll_interval_s=60.0)
    link = MqttLink(
        config, ServicePort(locker.api, locker.service), locker.service, wall=locker.clock.wall
    )
    task = asyncio.create_task(link.run())
    central = Central(broker.port, contract=contract, v5=broker.v5)
    await central.connect()
    await central.subscribe(f"{TOPICS.root}/#")
    await _connected(link, restarts=0)

    await locker.ok("set_service", compartment="B01", in_service=False, reason="woken")
    event = await central.receive(
        lambda m: m.topic == TOPICS.events and m.json()["type"] == "compartment.out_of_service",
        5.0,  # far less than the poll interval: the commit woke the bridge
    )
    assert event.json()["payload"]["reason"] == "woken"

    bridge = link._bridge  # fault injection: a bug on paho's thread, inside on_message
    assert bridge is not None and bridge._link is not None

    def broken(*args: object) -> None:
        raise ZeroDivisionError("a bug")

    bridge._link._client.on_message = bridge._link._guard("on_message", broken)
    await central.publish(TOPICS.command("ping"), {"command_id": "x"})
    await _connected(link, restarts=1)
    assert link._bridge is not bridge and not task.done()
    assert "ZeroDivisionError" in (bridge.statistics().last_error or "")
    # The new bridge serves commands, and the locker went on meanwhile.
    await central.subscribe(f"{TOPICS.reply}/#")
    reply = await central.request(TOPICS, "ping", locker.payload())
    assert reply["reply"]["ok"], reply

    central.forget_unread()
    await link.stop(task)
    assert task.done() and task.exception() is None
    # The clean stop's own goodbye: the crashed bridge's Will (connection_lost) may
    # still be on its way, and must not stand in for it.
    goodbye = await central.receive(
        lambda m: m.topic == TOPICS.status and m.json().get("reason") == "shutdown", WAIT_S
    )
    assert goodbye.json()["state"] == "offline"
    await central.close()
    await locker.close()
