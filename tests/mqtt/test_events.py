"""Events from the outbox: in seq order, kept until the central ack, sent again after a
reconnect and on replay; retention alarms; a locker that keeps serving with the broker down."""

from __future__ import annotations

import asyncio
from pathlib import Path

from locker_host.daemon.mqtt_link import ServicePort
from mqtt_bridge import MqttBridge
from tests.app.harness import Locker
from tests.domain.helpers import BOB_ID
from tests.reliability.tcp_proxy import TcpProxy

from .central import Central, Message
from .consumer import Consumer
from .harness import TOPICS, WAIT_S, bridge_config, bridge_for, expires_in, linked, running


async def produce(locker: Locker, count: int, start: int = 0) -> None:
    """``count`` events: B01 out of service and back, alternately."""
    for i in range(start, start + count):
        await locker.ok("set_service", compartment="B01", in_service=i % 2 == 1, reason=f"r{i}")


async def pending(locker: Locker) -> int:
    return (await ServicePort(locker.api, locker.service).outbox_stats()).pending


async def test_events_arrive_in_order_and_leave_the_outbox_only_on_the_central_ack(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract) as link:
        locker = link.locker
        await produce(locker, 30)
        events = [await link.central.receive(lambda m: m.topic == TOPICS.events) for _ in range(31)]
        body = [e.json() for e in events]
        assert [e["seq"] for e in body] == list(range(1, 32))
        assert body[0]["type"] == "locker.restarted"
        assert {e["boot_id"] for e in body} == {str(locker.service.runner.boot_id)}
        # PUBACKed long ago, but nothing leaves the outbox before the central ack.
        await asyncio.sleep(0.3)
        assert await pending(locker) == 31
        await link.central.publish(TOPICS.events_ack, {"boot_id": body[9]["boot_id"], "seq": 10})
        await _until(lambda: link.bridge.statistics().events_acked == 10)
        assert await pending(locker) == 21
        # Acks that cannot apply are refused and counted; the bridge goes on.
        for bad in (
            {"boot_id": body[0]["boot_id"], "seq": 99},  # beyond the head
            {"boot_id": "0" * 32, "seq": 20},  # another boot wrote seq 20
            {"seq": 20},
            b"not json",
        ):
            await link.central.publish(TOPICS.events_ack, bad)
        await _until(lambda: link.bridge.statistics().acks_refused == 4)
        await link.central.publish(TOPICS.events_ack, {"boot_id": body[0]["boot_id"], "seq": 5})
        await link.central.publish(TOPICS.events_ack, {"boot_id": body[0]["boot_id"], "seq": 31})
        await _until(lambda: link.bridge.statistics().events_acked == 31)
        assert await pending(locker) == 0
        assert contract.checked["event.json"] == 31


async def test_replay_sends_the_unacknowledged_events_again_with_their_own_seq(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract) as link:
        await produce(link.locker, 9)
        first = [await link.central.receive(lambda m: m.topic == TOPICS.events) for _ in range(10)]
        boot_id = first[0].json()["boot_id"]
        await link.central.publish(TOPICS.events_ack, {"boot_id": boot_id, "seq": 4})
        await _until(lambda: link.bridge.statistics().events_acked == 4)
        reply = await link.ok("replay", from_seq=2)
        assert (reply["from_seq"], reply["first_seq"], reply["head_seq"]) == (2, 5, 10)
        again = [await link.central.receive(lambda m: m.topic == TOPICS.events) for _ in range(6)]
        assert [m.json() for m in again] == [m.json() for m in first[4:]]


async def test_unacknowledged_events_go_out_again_after_a_reconnect_and_when_acks_stall(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract, resend_unacked_after_s=1.0) as link:
        await produce(link.locker, 4)
        first = [await link.central.receive(lambda m: m.topic == TOPICS.events) for _ in range(5)]
        # No ack for a second: the oldest goes out again (a probe), the same event, and
        # again after the next stall.
        for _ in range(2):
            again = await link.central.receive(lambda m: m.topic == TOPICS.events)
            assert again.json() == first[0].json()
        await link.central.publish(
            TOPICS.events_ack, {"boot_id": first[0].json()["boot_id"], "seq": 5}
        )
        await _until(lambda: link.bridge.statistics().events_acked == 5)


def is_event(message: Message) -> bool:
    return message.topic == TOPICS.events


async def resent_until(central: Central, boot_id: str, last: int, ack_every: int) -> list[int]:
    """Receive events sent again through seq ``last`` as a central system that missed them
    would: store each new seq, acknowledge every ``ack_every`` and when nothing came for
    half a second; the seqs in the order they came, a duplicate of what was stored
    already (another stall's copy) left out."""
    seqs: list[int] = []
    deadline = asyncio.get_running_loop().time() + 3 * WAIT_S
    while not seqs or seqs[-1] < last:
        assert asyncio.get_running_loop().time() < deadline, seqs
        try:
            seq = (await central.receive(is_event, 0.5)).json()["seq"]
        except TimeoutError:  # idle: acknowledge what is stored
            if seqs:
                await central.publish(TOPICS.events_ack, {"boot_id": boot_id, "seq": seqs[-1]})
            continue
        if seq <= (seqs[-1] if seqs else 0):
            continue
        seqs.append(seq)
        if seq % ack_every == 0 or seq == last:
            await central.publish(TOPICS.events_ack, {"boot_id": boot_id, "seq": seq})
    return seqs


async def test_a_resend_of_our_own_goes_out_within_the_resend_window_of_the_ack(
    broker, db_path: Path, contract
) -> None:
    """Acks stall with 10 events sent: the pump sends the oldest again (a probe), not all
    10. The central system, which had them all, acks the last with the duplicate, and
    nothing more goes out; one that had missed them acks as it stores, and the pump goes
    on 3 (the window) beyond each ack to the end."""
    async with linked(
        broker, db_path, contract, resend_unacked_after_s=1.0, resend_window=3
    ) as link:
        central, stats = link.central, link.bridge.statistics
        await produce(link.locker, 9)  # 10 events with locker.restarted
        first = [(await central.receive(is_event)).json() for _ in range(10)]
        boot_id = first[0]["boot_id"]
        again = (await central.receive(is_event, 3 * WAIT_S)).json()
        assert again["seq"] == 1  # acks stalled
        await asyncio.sleep(0.3)  # what a wider resend would send comes at once
        resent = [m.json()["seq"] for m in central.unread(is_event)]
        assert all(seq == 1 for seq in resent), resent  # (another stall: 1 again)
        await central.publish(TOPICS.events_ack, {"boot_id": boot_id, "seq": 10})
        await _until(lambda: stats().events_acked == 10)
        assert await pending(link.locker) == 0

        # A central system that missed the next 10 events: they come again, 3 at a time.
        central.forget_unread(is_event)
        await produce(link.locker, 10, start=9)
        fresh = [(await central.receive(is_event, 3 * WAIT_S)).json()["seq"] for _ in range(10)]
        assert fresh == list(range(11, 21))
        assert await resent_until(central, boot_id, 20, ack_every=3) == list(range(11, 21))
        await _until(lambda: stats().events_acked == 20)


class Stepped:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_wait_before_a_stall_resend_doubles_until_an_ack_moves(
    broker, db_path: Path, contract
) -> None:
    """Acks stall: the oldest event goes again after resend_unacked_after_s (10 s on the
    pump's clock), then after 20 to 25 s, 40 to 50 s, 80 to 100 s and no longer; an ack
    that moves brings the wait back to 10 s."""
    locker = await Locker.start(db_path)
    central = Central(broker.port, contract=contract, v5=broker.v5)
    clock = Stepped()
    try:
        await central.connect()
        await central.subscribe(f"{TOPICS.root}/#")
        config = bridge_config(
            broker.port, broker.protocol, resend_unacked_after_s=10.0, resend_window=2
        )
        bridge = MqttBridge(
            config, ServicePort(locker.api, locker.service), wall=locker.clock.wall, monotonic=clock
        )
        stats = bridge.statistics
        async with running(bridge):
            await produce(locker, 3)  # 4 events with locker.restarted
            first = [(await central.receive(is_event)).json() for _ in range(4)]
            boot_id = first[0]["boot_id"]

            async def quiet_until(at: float) -> None:
                """Nothing goes again with the clock just short of ``at``."""
                published = stats().events_published
                clock.now = at - 0.1
                await asyncio.sleep(0.3)  # six of the pump's looks (poll_interval_s 0.05)
                assert stats().events_published == published, clock.now
                assert central.unread(is_event) == []

            async def resent_at(at: float, seqs: list[int]) -> float:
                resends = stats().stall_resends
                clock.now = at
                again = [(await central.receive(is_event)).json()["seq"] for _ in seqs]
                assert again == seqs
                await _until(lambda: stats().stall_resends == resends + 1)
                return at

            start = clock.now
            await quiet_until(start + 10)
            last = await resent_at(start + 10.1, [1])
            for low, high in ((20, 25), (40, 50), (80, 100), (80, 100)):
                await quiet_until(last + low)
                last = await resent_at(last + high + 0.1, [1])
            assert stats().stall_resends == 5

            await central.publish(TOPICS.events_ack, {"boot_id": boot_id, "seq": 2})
            await _until(lambda: stats().events_acked == 2)
            moved = clock.now
            # The pass goes on, 2 (the window) beyond the ack: 3 and 4 at once; with no
            # ack again, the oldest after 10 s.
            slid = [(await central.receive(is_event)).json()["seq"] for _ in range(2)]
            assert slid == [3, 4]
            await quiet_until(moved + 10)
            await resent_at(moved + 10.1, [3])
            await central.publish(TOPICS.events_ack, {"boot_id": boot_id, "seq": 4})
            await _until(lambda: stats().events_acked == 4)
        await central.close()
    finally:
        await locker.close()


async def test_after_a_reconnect_the_backlog_goes_out_again_within_the_resend_window(
    broker, db_path: Path, contract
) -> None:
    """The locker's connection drops with 8 events unacknowledged: after the reconnect
    the pump sends the 2 oldest again and waits for the ack; new events go out as usual."""
    locker = await Locker.start(db_path)
    proxy = TcpProxy(broker.port)
    await proxy.start()
    central = Central(broker.port, contract=contract, v5=broker.v5)
    try:
        await central.connect()
        await central.subscribe(f"{TOPICS.root}/#")
        config = bridge_config(
            proxy.port, broker.protocol, resend_unacked_after_s=None, resend_window=2
        )
        bridge = bridge_for(locker, config)
        async with running(bridge):
            await produce(locker, 7)  # 8 events with locker.restarted
            first = [(await central.receive(is_event)).json() for _ in range(8)]
            boot_id = first[0]["boot_id"]
            published = bridge.statistics().events_published
            proxy.reset()
            await _until(lambda: bridge.statistics().connects >= 2)
            # The pump's own resend: the 2 oldest, then it waits for an ack. (paho may also
            # send again what the broker had not PUBACKed when the link dropped.)
            await _until(lambda: bridge.statistics().events_published >= published + 2)
            again = {(await central.receive(is_event, 3 * WAIT_S)).json()["seq"] for _ in range(2)}
            await asyncio.sleep(0.3)  # what a full resend would send comes at once
            assert bridge.statistics().events_published == published + 2
            again |= {m.json()["seq"] for m in central.unread(is_event)}
            assert {1, 2} <= again, again
            central.forget_unread(is_event)
            # The central system had them: its ack of the duplicate ends the resend.
            await central.publish(TOPICS.events_ack, {"boot_id": boot_id, "seq": 8})
            await _until(lambda: bridge.statistics().events_acked == 8)
            await produce(locker, 5, start=7)  # new events: the full window
            new = [(await central.receive(is_event, 3 * WAIT_S)).json()["seq"] for _ in range(5)]
            assert new == list(range(9, 14))
            assert [m.json()["seq"] for m in central.unread(is_event)] == []
        await central.close()
    finally:
        await proxy.close()
        await locker.close()


async def test_no_more_events_than_the_window_go_out_beyond_the_central_ack(
    broker, db_path: Path, contract
) -> None:
    async with linked(
        broker, db_path, contract, events_ahead_of_ack=5, resend_unacked_after_s=None
    ) as link:
        await produce(link.locker, 11)  # 12 events with locker.restarted
        first = [await link.central.receive(lambda m: m.topic == TOPICS.events) for _ in range(5)]
        await asyncio.sleep(0.3)
        assert link.central.unread(lambda m: m.topic == TOPICS.events) == []
        assert link.bridge.statistics().events_published == 5
        await link.central.publish(
            TOPICS.events_ack, {"boot_id": first[0].json()["boot_id"], "seq": 3}
        )
        more = [await link.central.receive(lambda m: m.topic == TOPICS.events) for _ in range(3)]
        assert [m.json()["seq"] for m in first + more] == list(range(1, 9))


async def test_the_outbox_backlog_raises_an_alarm_on_status_and_in_the_statistics(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract, outbox_alarm_pending=5) as link:
        await produce(link.locker, 5)  # with locker.restarted: 6 pending
        # The alarm is already up at 5 pending: wait for the watch that saw all 6, not
        # for the first alarm (a busy machine polls the outbox less often than we produce).
        await _until(lambda: link.bridge.statistics().outbox_head_seq == 6)
        stats = link.bridge.statistics()
        assert (stats.outbox_pending, stats.outbox_head_seq, stats.outbox_acked_seq) == (6, 6, 0)
        assert stats.alarms == ("outbox_backlog",)
        status = await link.central.receive(
            lambda m: m.topic == TOPICS.status and m.json()["outbox"]["alarms"] != []
        )
        assert status.json()["outbox"] == {"dropped_total": 0, "alarms": ["outbox_backlog"]}
        boot_id = str(link.locker.service.runner.boot_id)
        link.central.forget_unread()
        await link.central.publish(TOPICS.events_ack, {"boot_id": boot_id, "seq": 6})
        cleared = await link.central.receive(
            lambda m: m.topic == TOPICS.status and m.json()["outbox"]["alarms"] == []
        )
        assert cleared.json()["state"] == "online"
        assert link.bridge.statistics().alarms == ()


async def test_the_locker_keeps_serving_pickups_with_the_broker_down(
    broker, db_path: Path, contract
) -> None:
    locker = await Locker.start(db_path)
    consumer = Consumer(broker.port, TOPICS, contract, expires_in(locker), v5=broker.v5)
    await consumer.start()
    bridge = bridge_for(locker, bridge_config(broker.port, broker.protocol))
    async with running(bridge):
        compartment = await locker.reserve("APP-1", BOB_ID)
        await locker.load(compartment)
        await consumer.wait_for(
            (await locker.service.runner.run(lambda s: s.outbox_statistics())).head_seq
        )
        await consumer.stop()
        broker.kill()
        await _until(lambda: not bridge.statistics().connected)
        # The hall is cut off; the citizen comes anyway.
        reply = (await locker.kiosk.pickup_by_card(BOB_ID)).to_json()
        assert reply["ok"], reply
        await locker.use(compartment, item_after=False)
        assert locker.compartment_state(compartment) == "free"
        assert "certificate.collected" in await locker.event_types()
        head = (await locker.service.runner.run(lambda s: s.outbox_statistics())).head_seq
        broker.start()
        await _until(lambda: bridge.statistics().connected, WAIT_S)
        await consumer.start()
        await consumer.wait_for(head)
    assert [e["seq"] for e in consumer.accepted] == list(range(1, head + 1))
    assert consumer.accepted[-1]["type"] in {"certificate.collected", "open.opened"}
    assert "certificate.collected" in [e["type"] for e in consumer.accepted]
    assert await pending(locker) == 0
    await locker.close()


async def _until(condition, timeout: float = WAIT_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)
