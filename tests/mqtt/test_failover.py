"""A list of brokers (``[mqtt] brokers``): the locker moves to the second when the first
is killed, and back when the second is, and the central system, subscribed on both,
gets every event (each locker's seq gap-free) with the outbox drained at the end; and
past a broker that takes connections and never answers them."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from mqtt_bridge import Broker
from tests.app.harness import Locker

from .broker import Mosquitto
from .consumer import Consumer
from .harness import TOPICS, WAIT_S, bridge_config, bridge_for, expires_in, running
from .test_events import _until, pending, produce


async def test_the_locker_moves_to_the_next_broker_and_back_and_loses_nothing(
    tmp_path: Path, db_path: Path, contract, protocol: str
) -> None:
    first = Mosquitto(tmp_path / "first", protocol=protocol)
    second = Mosquitto(tmp_path / "second", protocol=protocol)
    first.start()
    second.start()
    locker = await Locker.start(db_path)
    shared: list[dict] = []  # one central system: one `last` per locker, whatever the broker

    def consumer(broker: Mosquitto) -> Consumer:
        return Consumer(
            broker.port,
            TOPICS,
            contract,
            expires_in(locker),
            client_id=f"central-{broker.port}",
            v5=broker.v5,
            accepted=shared,
        )

    on_first, on_second = consumer(first), consumer(second)
    config = bridge_config(
        first.port,
        protocol,
        failover=(Broker("127.0.0.1", second.port),),
        reconnect_max_s=2,
    )
    bridge = bridge_for(locker, config)
    try:
        await on_first.start()
        await on_second.start()
        async with running(bridge):
            assert bridge.statistics().broker == f"127.0.0.1:{first.port}"
            await produce(locker, 10)
            await on_first.wait_for(11)

            first.kill()  # kill -9; the locker serves on, its events wait in the outbox
            await on_first.stop()
            await produce(locker, 10, start=10)
            await _until(lambda: bridge.statistics().broker == f"127.0.0.1:{second.port}", 30)
            await on_second.wait_for(21)

            first.start()  # a new, empty broker on the same port
            on_first = consumer(first)
            await on_first.start()
            second.kill()
            await on_second.stop()
            await produce(locker, 10, start=20)
            await _until(lambda: bridge.statistics().broker == f"127.0.0.1:{first.port}", 30)
            await on_first.wait_for(31)
            await _until(lambda: bridge.statistics().outbox_pending == 0, WAIT_S)
            stats = bridge.statistics()
        await on_first.stop()
    finally:
        first.kill()
        second.kill()
    assert [e["seq"] for e in shared] == list(range(1, 32))  # none lost, none out of order
    assert all(d["event_id"] == shared[d["seq"] - 1]["event_id"] for d in on_second.duplicates)
    assert await pending(locker) == 0
    assert stats.connects == 3 and stats.alarms == ()
    await locker.close()


async def test_a_broker_that_takes_the_connection_and_never_answers_is_a_failed_attempt(
    tmp_path: Path, db_path: Path, contract, protocol: str
) -> None:
    """A listener that accepts TCP and never sends CONNACK (a hung broker, a proxy whose
    upstream is gone): each attempt there ends after keepalive_s, counts as a failed
    attempt (no disconnect: the locker was never connected), and the locker moves on."""
    silent = socket.create_server(("127.0.0.1", 0))
    silent.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # holds every connection open and reads nothing
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except TimeoutError:
                continue

    listener = threading.Thread(target=accept, daemon=True)
    listener.start()
    second = Mosquitto(tmp_path / "second", protocol=protocol)
    second.start()
    locker = await Locker.start(db_path)
    config = bridge_config(
        silent.getsockname()[1],
        protocol,
        failover=(Broker("127.0.0.1", second.port),),
        keepalive_s=1,
        reconnect_max_s=2,
    )
    bridge = bridge_for(locker, config)
    try:
        async with running(bridge, connected=False):
            await _until(lambda: bridge.statistics().connected, 30)
            stats = bridge.statistics()
    finally:
        stop.set()
        listener.join(timeout=5)
        for connection in held:
            connection.close()
        silent.close()
        second.kill()
    assert stats.broker == f"127.0.0.1:{second.port}"
    assert len(held) == 1  # the one attempt at the silent broker, then the next broker
    assert stats.connect_failures == 1 and stats.disconnects == 0
    assert stats.last_error is not None and "before it was made" in stats.last_error
    await locker.close()
