"""Nothing lost when the broker or the daemon dies with ``kill -9`` mid-stream.

Measured at a consumer that follows the contract (ack after processing,
replay on a gap or a lost session) and is itself offline while the broker
dies: every seq from 1 to the head arrives, in order, and a duplicate is only
ever a repeat of the same seq with the same event_id.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from locker_host.daemon.mqtt_link import ServicePort
from mqtt_bridge import BridgeFailed
from tests.app.harness import Locker

from .broker import persistence_lines
from .central import Central
from .consumer import Consumer
from .harness import TOPICS, WAIT_S, bridge_config, bridge_for, expires_in, running
from .test_events import _until, produce

ROOT = Path(__file__).resolve().parents[2]


async def outbox(locker: Locker):
    return await ServicePort(locker.api, locker.service).outbox_stats()


def report(consumer: Consumer, head: int) -> str:
    return (
        f"produced {head}, accepted {len(consumer.accepted)}, duplicates "
        f"{len(consumer.duplicates)}, gaps {consumer.gaps}, replays {consumer.replays}, "
        f"sessions lost {consumer.sessions_lost}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("persistent", [True, False], ids=["autosave", "no-persistence"])
async def test_broker_kill_9_while_events_are_produced(
    broker, db_path: Path, contract, persistent: bool, record_property
) -> None:
    if persistent:
        broker.stop()
        broker.lines += persistence_lines(broker.directory)
        broker.start()
    locker = await Locker.start(db_path)
    consumer = Consumer(broker.port, TOPICS, contract, expires_in(locker), v5=broker.v5)
    await consumer.start()
    bridge = bridge_for(locker, bridge_config(broker.port, broker.protocol))
    async with running(bridge):
        producer = asyncio.create_task(produce(locker, 400))
        await consumer.wait_for(60)
        await consumer.stop()  # the central system is away during the crash
        await _until(lambda: bridge.statistics().events_published >= 200)
        broker.kill()
        await asyncio.sleep(0.3)  # events keep being produced into the outbox
        broker.start()
        await _until(lambda: bridge.statistics().connects == 2)
        await producer
        await consumer.start()
        head = (await outbox(locker)).head_seq
        try:
            await consumer.wait_for(head, timeout=20)
        except TimeoutError:
            print(
                "DEBUG",
                report(consumer, head),
                bridge.statistics(),
                await outbox(locker),
                consumer._acked,
            )
            print(
                "DEBUG unread", [(m.topic, m.payload[:80]) for m in consumer._central._unread][:20]
            )
            raise
        await _until(lambda: bridge.statistics().outbox_pending == 0)
    record_property("delivery", report(consumer, head))
    print(report(consumer, head))
    assert head == 401
    assert [e["seq"] for e in consumer.accepted] == list(range(1, head + 1))  # none lost, in order
    assert all(
        d["event_id"] == consumer.accepted[d["seq"] - 1]["event_id"] for d in consumer.duplicates
    )
    assert (await outbox(locker)).pending == 0
    if not persistent:
        assert consumer.sessions_lost == 2  # the first connect, and after the crash
    await locker.close()


@pytest.mark.slow
async def test_daemon_kill_9_with_events_pending_delivers_them_after_restart(
    broker, db_path: Path, contract, record_property
) -> None:
    consumer = Consumer(
        broker.port, TOPICS, contract, "2030-01-01T00:00:00Z", ack_every=10, v5=broker.v5
    )
    await consumer.start()
    command = [sys.executable, "-m", "tests.mqtt.daemon_child", str(db_path), str(broker.port)]
    command.append(broker.protocol)
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        try:
            produced = await asyncio.to_thread(_read_until_produced, child, 150)
            assert consumer.last > 0, "the consumer saw nothing before the kill"
        finally:
            child.kill()  # kill -9
            child.wait(timeout=10)
    await consumer.stop()  # what it has seen is fixed now
    seen_before = consumer.last
    locker = await Locker.start(db_path)
    at_restart = await outbox(locker)
    old_boot = consumer.accepted[0]["boot_id"]
    assert at_restart.pending > 0
    await consumer.start()
    bridge = bridge_for(locker, bridge_config(broker.port, broker.protocol))
    async with running(bridge):
        await consumer.wait_for(at_restart.head_seq, timeout=60)
        await _until(lambda: bridge.statistics().outbox_pending == 0)
    head = at_restart.head_seq
    summary = (
        f"{report(consumer, head)}; produced by the killed daemon >= {produced}, seen before "
        f"the kill {seen_before}, pending at restart {at_restart.pending}"
    )
    record_property("delivery", summary)
    print(summary)
    assert [e["seq"] for e in consumer.accepted] == list(range(1, head + 1))
    after_kill = consumer.accepted[seen_before:]
    assert any(e["boot_id"] == old_boot for e in after_kill)  # the dead daemon's events
    assert consumer.accepted[-1]["type"] == "locker.restarted"
    assert consumer.accepted[-1]["boot_id"] != old_boot
    assert (await outbox(locker)).pending == 0
    await locker.close()


def _read_until_produced(child: subprocess.Popen[str], count: int) -> int:
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("produced ") and int(line.split()[1]) >= count:
            return int(line.split()[1])
    raise AssertionError(f"the daemon ended early: {child.stderr.read() if child.stderr else ''}")


async def test_a_failing_callback_fails_run_loudly(broker, db_path: Path, contract) -> None:
    locker = await Locker.start(db_path)
    bridge = bridge_for(locker, bridge_config(broker.port, broker.protocol))
    task = asyncio.create_task(bridge.run())
    await asyncio.wait_for(bridge.wait_connected(), WAIT_S)
    link = bridge._link  # fault injection: a bug on paho's thread, inside on_message

    def broken(*args: object) -> None:
        raise ZeroDivisionError("a bug")

    assert link is not None
    link._client.on_message = link._guard("on_message", broken)
    central = Central(broker.port, contract=contract, v5=broker.v5)
    await central.connect()
    await central.publish(TOPICS.command("ping"), {"command_id": "x"})
    with pytest.raises(BridgeFailed, match="ZeroDivisionError"):
        await asyncio.wait_for(task, WAIT_S)
    await central.close()
    stats = bridge.statistics()
    assert stats.callback_errors == 1
    assert stats.last_error is not None and "ZeroDivisionError" in stats.last_error
    assert not stats.connected  # run() ended with a clean disconnect
    await locker.close()
