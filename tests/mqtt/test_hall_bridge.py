"""The topology many halls use: the lockers on a hall broker (Mosquitto, MQTT 5) bridged
to the platform's broker (here a second Mosquitto, with the shipped ACL), by the shipped
deploy/mosquitto/hall-bridge.conf. The link between them is cut (every connection reset,
nothing passing) and restored, then the hall broker is killed (kill -9) and started
again: events reach the central system on the platform side, none lost, and its
commands reach the locker."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

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


async def test_events_and_commands_cross_a_cut_bridge_and_a_killed_hall_broker(
    tmp_path: Path, db_path: Path, contract
) -> None:
    (tmp_path / "platform").mkdir()
    platform = Mosquitto(tmp_path / "platform", lines=platform_lines(tmp_path / "platform"))
    platform.start()
    link = TcpProxy(platform.port)  # the hall's uplink
    await link.start()
    hall = Mosquitto(
        tmp_path / "hall", lines=["allow_anonymous true", *hall_bridge_lines(link.port)]
    )
    hall.start()
    locker = await Locker.start(db_path)
    central_login = {"username": "central", "password": PASSWORDS["central"]}
    consumer = Consumer(platform.port, TOPICS, contract, expires_in(locker), **central_login)
    # The hall's uplink speaks 3.1.1 (hall-bridge.conf says why): replies come back on
    # `reply`, matched by command_id, as a 3.1.1 central client expects them.
    ops = Central(
        platform.port, contract=contract, client_id="central-ops", v5=False, **central_login
    )
    try:
        await consumer.start()
        await ops.connect()
        await ops.subscribe(TOPICS.status, TOPICS.state, TOPICS.reply)
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
            newcomer = Central(platform.port, contract=contract, v5=False, **central_login)
            await newcomer.connect()
            await newcomer.subscribe(TOPICS.status)
            kept = await newcomer.receive(lambda m: m.topic == TOPICS.status, WAIT_S)
            assert kept.retain and kept.json()["state"] == "online"
            await newcomer.close()
        await consumer.stop()
        await ops.close()
    finally:
        hall.kill()
        await link.close()
        platform.kill()
    assert [e["seq"] for e in consumer.accepted] == list(range(1, 32))  # none lost, in order
    assert all(
        d["event_id"] == consumer.accepted[d["seq"] - 1]["event_id"] for d in consumer.duplicates
    )
    assert locker.driver.pulsed() == ["B01"]
    assert await pending(locker) == 0
    await locker.close()
