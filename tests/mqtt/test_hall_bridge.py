"""The topology many halls use: the lockers on a hall broker (Mosquitto, MQTT 5) bridged
to the platform's broker (here a second Mosquitto, with the shipped ACL), by the shipped
deploy/mosquitto/hall-bridge.conf. The link between them is cut (every connection reset,
nothing passing) and restored, then the hall broker is killed (kill -9) and started
again: events reach the central system on the platform side, none lost, and its
commands reach the locker."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.app.harness import Locker
from tests.reliability.tcp_proxy import TcpProxy

from .broker import Mosquitto
from .central import Central, Message
from .consumer import Consumer
from .harness import TOPICS, WAIT_S, bridge_config, bridge_for, expires_in, running
from .test_events import _until, pending, produce

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "mosquitto"
PASSWORDS = {"central": "central-pw", "bridge-hall1": "bridge-pw"}
CENTRAL_LOGIN = {"username": "central", "password": PASSWORDS["central"]}


def platform_lines(directory: Path) -> list[str]:
    tool = shutil.which("mosquitto_passwd")
    assert tool, "mosquitto_passwd comes with the mosquitto package"
    passwd = directory / "passwd"
    for user, password in PASSWORDS.items():
        flags = ["-b"] if passwd.exists() else ["-b", "-c"]
        subprocess.run([tool, *flags, str(passwd), user, password], check=True, timeout=30)
    shutil.copy(DEPLOY / "acl", directory / "acl")
    return ["allow_anonymous false", f"password_file {passwd}", f"acl_file {directory / 'acl'}"]


def hall_bridge_lines(platform_port: int) -> list[str]:
    """hall-bridge.conf as shipped, pointed at the platform on this machine: plain TCP on
    loopback (the TLS lines dropped), the test's password, a short restart back-off."""
    text = (DEPLOY / "hall-bridge.conf").read_text()
    replacements = {
        "address platform.example.invalid:8883": f"address 127.0.0.1:{platform_port}",
        "remote_password CHANGE-ME": f"remote_password {PASSWORDS['bridge-hall1']}",
        "restart_timeout 5 60": "restart_timeout 1 2",
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    tls = ("bridge_cafile", "bridge_insecure")
    return [line for line in text.splitlines() if not line.startswith(tls)]


def answers_the_ping(message: Message) -> bool:
    return message.topic == TOPICS.reply and message.json()["command_id"] == "in-the-cut"


@dataclass
class HallWorld:
    """The platform broker, the hall's uplink (a TCP proxy that can cut it), the hall
    broker with the shipped bridge, one locker, and the central system on the platform:
    its event consumer and an operator client."""

    platform: Mosquitto
    link: TcpProxy
    hall: Mosquitto
    locker: Locker
    consumer: Consumer
    ops: Central


@contextlib.asynccontextmanager
async def hall_world(
    tmp_path: Path, db_path: Path, contract, hall_lines: tuple[str, ...] = ()
) -> AsyncIterator[HallWorld]:
    (tmp_path / "platform").mkdir()
    platform = Mosquitto(tmp_path / "platform", lines=platform_lines(tmp_path / "platform"))
    platform.start()
    link = TcpProxy(platform.port)  # the hall's uplink
    await link.start()
    hall = Mosquitto(
        tmp_path / "hall",
        lines=["allow_anonymous true", *hall_lines, *hall_bridge_lines(link.port)],
    )
    hall.start()
    locker = await Locker.start(db_path)
    consumer = Consumer(platform.port, TOPICS, contract, expires_in(locker), **CENTRAL_LOGIN)
    # The hall's uplink speaks 3.1.1 (hall-bridge.conf says why): replies come back on
    # `reply`, matched by command_id, as a 3.1.1 central client expects them.
    ops = Central(
        platform.port, contract=contract, client_id="central-ops", v5=False, **CENTRAL_LOGIN
    )
    try:
        await consumer.start()
        await ops.connect()
        await ops.subscribe(TOPICS.status, TOPICS.state, TOPICS.reply)
        yield HallWorld(platform, link, hall, locker, consumer, ops)
        await consumer.stop()
        await ops.close()
    finally:
        hall.kill()
        await link.close()
        platform.kill()
    await locker.close()


async def test_events_and_commands_cross_a_cut_bridge_and_a_killed_hall_broker(
    tmp_path: Path, db_path: Path, contract
) -> None:
    async with hall_world(tmp_path, db_path, contract) as world:
        locker, link, hall = world.locker, world.link, world.hall
        consumer, ops = world.consumer, world.ops
        bridge = bridge_for(locker, bridge_config(hall.port))
        async with running(bridge):
            status = await ops.receive(lambda m: m.topic == TOPICS.status, WAIT_S)
            assert status.json()["state"] == "online"
            await produce(locker, 10)
            await consumer.wait_for(11)

            # The uplink is cut: the locker goes on publishing to the hall broker.
            link.block()
            link.reset()
            await produce(locker, 10, start=10)
            await ops.publish(TOPICS.command("ping"), locker.payload(command_id="in-the-cut"))
            await asyncio.sleep(2.0)
            assert consumer.last == 11  # nothing crossed
            assert ops.unread(answers_the_ping) == []
            link.unblock()
            pong = await ops.receive(answers_the_ping, 3 * WAIT_S)
            assert pong.json()["reply"]["result"] == "pong"
            await consumer.wait_for(21, timeout=3 * WAIT_S)

            # The hall broker dies (kill -9, no persistence) and comes back.
            hall.kill()
            await _until(lambda: not bridge.statistics().connected)
            await produce(locker, 10, start=20)
            hall.start()
            await consumer.wait_for(31, timeout=3 * WAIT_S)
            reply = await ops.request(
                TOPICS, "open", locker.payload(compartment="B01", reason="inspection")
            )
            assert reply["reply"]["result"] == "opening"
            await _until(lambda: bridge.statistics().outbox_pending == 0, 3 * WAIT_S)
            # The retained status crossed the bridge retained: a newcomer on the platform
            # gets it at once.
            newcomer = Central(world.platform.port, contract=contract, v5=False, **CENTRAL_LOGIN)
            await newcomer.connect()
            await newcomer.subscribe(TOPICS.status)
            kept = await newcomer.receive(lambda m: m.topic == TOPICS.status, WAIT_S)
            assert kept.retain and kept.json()["state"] == "online"
            await newcomer.close()
        assert [e["seq"] for e in consumer.accepted] == list(range(1, 32))  # none lost, in order
        assert all(
            d["event_id"] == consumer.accepted[d["seq"] - 1]["event_id"]
            for d in consumer.duplicates
        )
        assert locker.driver.pulsed() == ["B01"]
        assert await pending(locker) == 0


# A cut of minutes: longer than the bridge's keepalive (30 s in hall-bridge.conf) several
# times over, so that both brokers give the link up. The platform ends the bridge's
# connection after 1.5 keepalives of silence and keeps its session (clean session off);
# the hall broker's bridge times out and keeps trying. Nothing passes on the uplink: no
# reset, the packets just go nowhere, as when a hall's line goes dead upstream.
LONG_CUT_S = 150.0
# The hall broker's queue for the bridge, kept small here so that the cut overflows it
# with a few events (the shipped mosquitto.conf allows 10000; a long enough cut with busy
# lockers overflows that the same way). What the queue drops, the lockers' outboxes keep.
HALL_QUEUE = 10


@pytest.mark.slow
@pytest.mark.timeout(LONG_CUT_S + 300)
async def test_a_cut_of_minutes_overflowing_the_hall_queue_loses_nothing(
    tmp_path: Path, db_path: Path, contract
) -> None:
    lines = (f"max_queued_messages {HALL_QUEUE}",)
    async with hall_world(tmp_path, db_path, contract, hall_lines=lines) as world:
        locker, consumer, ops = world.locker, world.consumer, world.ops
        bridge = bridge_for(locker, bridge_config(world.hall.port))
        async with running(bridge):
            await produce(locker, 10)
            await consumer.wait_for(11)

            world.link.block()  # silence from now on
            cut_at = asyncio.get_running_loop().time()
            ping = locker.payload(command_id="in-the-cut")
            await ops.publish(TOPICS.command("ping"), ping)
            # Events all through the cut, three times what the hall broker queues.
            for step in range(3 * HALL_QUEUE):
                await produce(locker, 1, start=10 + step)
                await asyncio.sleep(LONG_CUT_S / (3 * HALL_QUEUE + 1))
            await asyncio.sleep(max(0.0, cut_at + LONG_CUT_S - asyncio.get_running_loop().time()))
            assert consumer.last == 11  # nothing crossed
            assert ops.unread(answers_the_ping) == []
            # Both ends gave the link up: the platform dropped the bridge's connection for
            # its silence, and the hall broker dropped what overflowed the bridge's queue.
            assert "bridge-hall1 has exceeded timeout" in world.platform.log()
            assert "Outgoing messages are being dropped for client" in world.hall.log()

            world.link.unblock()
            # The command waited on the platform and comes down. Its reply may not come
            # back: the hall broker's queue for the bridge, still full of what waited
            # through the cut, drops it too (seen here). The central system then sends
            # the same command again, as the contract says, and gets the same answer.
            pong = None
            for _ in range(6):
                try:
                    pong = await ops.receive(answers_the_ping, 20.0)
                    break
                except TimeoutError:
                    await ops.publish(TOPICS.command("ping"), ping)
            assert pong is not None and pong.json()["reply"]["result"] == "pong"
            # The lockers keep working; the next event shows the central system the gap
            # the hall broker's drop left, and it asks for a replay.
            await produce(locker, 1, start=10 + 3 * HALL_QUEUE)
            head = 11 + 3 * HALL_QUEUE + 1
            await consumer.wait_for(head, timeout=90.0)
            await _until(lambda: bridge.statistics().outbox_pending == 0, 3 * WAIT_S)
        assert [e["seq"] for e in consumer.accepted] == list(range(1, head + 1))
        assert consumer.replays >= 1
        assert all(
            d["event_id"] == consumer.accepted[d["seq"] - 1]["event_id"]
            for d in consumer.duplicates
        )
        assert await pending(locker) == 0
