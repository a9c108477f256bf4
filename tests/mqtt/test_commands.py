"""Every command over a real broker and its reply; duplicates, expiry, invalid and oversized
payloads, unknown names, signatures; replies on the MQTT 5 response topic and on the 3.1.1
fallback. Every message the locker publishes is checked against the contract."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from mqtt_bridge import sign
from tests.app.harness import DAY, Locker, iso, owner_key
from tests.domain.helpers import ALICE_ID, BOB_ID

from .central import Central
from .harness import TOPICS, WAIT_S, bridge_config, bridge_for, linked, running


def reserve_fields(locker: Locker, application: str = "APP-1", **more: Any) -> dict[str, Any]:
    return {
        "application": application,
        "owner_key": owner_key(BOB_ID),
        "key_version": 2,
        "size": "M",
        "department": "tax",
        "deadline": iso(locker.clock.wall_s + 3 * DAY),
        **more,
    }


async def test_every_command_gets_its_reply(broker, db_path: Path, contract) -> None:
    async with linked(broker, db_path, contract) as link:
        clock = link.locker.clock
        reserved = await link.ok("reserve", **reserve_fields(link.locker))
        assert reserved["result"] == "reserved"
        compartment = reserved["compartment"]
        extended = await link.ok(
            "extend_deadline", application="APP-1", deadline=iso(clock.wall_s + 5 * DAY)
        )
        assert extended["result"] == "accepted"
        assert (await link.ok("recall_list", department="tax"))["result"] == "recall_entries"
        inventory = await link.ok("inventory")
        assert compartment in [c["compartment"] for c in inventory["compartments"]]
        out = await link.ok("set_service", compartment="B01", in_service=False, reason="repair")
        assert out["result"] == "accepted"
        back = await link.ok("set_service", compartment="B01", in_service=True, reason="fixed")
        assert back["result"] == "accepted"
        assert link.locker.driver.pulses == []
        opening = await link.ok("open", compartment="B01", reason="inspection")
        assert [o["compartment"] for o in opening["opens"]] == ["B01"]
        assert link.locker.driver.pulsed() == ["B01"]
        dropoff = await link.ok(
            "expect_dropoff",
            application="APP-D",
            department="tax",
            size="S",
            valid_until=iso(clock.wall_s + DAY),
        )
        assert dropoff["code"].isdigit()
        assert (await link.ok("cancel", application="APP-1"))["result"] == "accepted"
        pong = await link.ok("ping")
        assert pong["boot_id"] == str(link.locker.service.runner.boot_id)
        assert pong["outbox"]["head_seq"] >= 5

        link.central.forget_unread()  # only what the republish sends counts below
        assert (await link.ok("republish"))["result"] == "republished"
        for topic in (TOPICS.status, TOPICS.state, TOPICS.board_status("bus0/1")):
            again = await link.central.receive(lambda m, t=topic: m.topic == t)
            assert again.json()["boot_id"] == pong["boot_id"]

        replay = await link.ok("replay", from_seq=1)
        assert replay["result"] == "replaying"
        assert replay["first_seq"] == 1
    assert contract.checked["reply.json"] == 12
    assert contract.checked["state.json"] >= 2


@pytest.mark.mqtt5("a 3.1.1 central beside an MQTT 5 locker; in the 3.1.1 run all speak 3.1.1")
async def test_a_mqtt311_client_gets_replies_on_the_fallback_topic(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract) as link:
        old = Central(broker.port, contract=contract, v5=False)
        await old.connect()
        await old.subscribe(TOPICS.reply)
        reply = await old.request(TOPICS, "ping", link.payload(command_id="from-3.1.1"))
        assert reply["command_id"] == "from-3.1.1"
        assert reply["reply"]["result"] == "pong"
        reserved = await old.request(TOPICS, "reserve", link.payload(**reserve_fields(link.locker)))
        assert reserved["reply"]["result"] == "reserved"
        await old.close()


async def test_a_duplicate_gets_the_stored_reply_and_nothing_happens_twice(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract) as link:
        fields = link.payload(command_id="dup-1", **reserve_fields(link.locker))
        first = await link.central.request(TOPICS, "reserve", fields)
        counts = await link.locker.counts()
        # The same bytes again, as a QoS 1 redelivery would bring them, and once more.
        second = await link.central.request(TOPICS, "reserve", fields)
        third = await link.central.request(TOPICS, "reserve", dict(fields))
        assert first["reply"] == second["reply"] == third["reply"]
        assert first["reply"]["result"] == "reserved"
        assert await link.locker.counts() == counts

        opened = link.payload(command_id="dup-open", compartment="B01", reason="inspection")
        replies = [await link.central.request(TOPICS, "open", opened) for _ in range(3)]
        assert replies[0]["reply"] == replies[1]["reply"] == replies[2]["reply"]
        assert link.locker.driver.pulsed() == ["B01"]

        pinged = link.payload(command_id="dup-ping")
        pongs = [await link.central.request(TOPICS, "ping", pinged) for _ in range(2)]
        assert pongs[0]["reply"] == pongs[1]["reply"]


async def test_an_expired_command_is_answered_expired_and_does_nothing(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract) as link:
        stale = iso(link.locker.clock.wall_s - 1)
        before = await link.locker.counts()
        reply = await link.request("open", expires_at=stale, compartment="B01", reason="late")
        assert reply["reply"]["error"]["code"] == "expired"
        reply = await link.request("reserve", expires_at=stale, **reserve_fields(link.locker))
        assert reply["reply"]["error"]["code"] == "expired"
        audit, events, pulses = await link.locker.counts()
        assert (events, pulses) == before[1:]  # only the denials were audited
        assert audit == before[0] + 2
        assert link.locker.compartment_state("A03") == "free"
        for name, extra in (("ping", {}), ("republish", {}), ("replay", {"from_seq": 1})):
            reply = await link.request(name, expires_at=stale, **extra)
            assert reply["reply"]["error"]["code"] == "expired", name


def raw(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


async def test_invalid_payloads_are_refused_naming_the_field(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract) as link:
        good = link.payload(**reserve_fields(link.locker))
        cases: list[tuple[str, Any, str, str | None]] = [
            ("reserve", b"{not json", "invalid", "$"),
            ("reserve", b"\xff\xfe", "invalid", "$"),
            ("reserve", [1, 2, 3], "invalid", "$"),
            ("reserve", b"[" * 5_000 + b"]" * 5_000, "invalid", "$"),  # deeper than Python recurses
            ("reserve", {**good, "size": "XL"}, "invalid", "size"),
            ("reserve", {k: v for k, v in good.items() if k != "deadline"}, "invalid", "deadline"),
            ("reserve", {**good, "deadine": good["deadline"]}, "invalid", "deadine"),
            ("reserve", {**good, "id_number": ALICE_ID}, "invalid", "id_number"),
            ("reserve", {**good, "owner_key": "not-a-key"}, "invalid", "owner_key"),
            ("reserve", {**good, "expires_at": "tomorrow"}, "invalid", "expires_at"),
            ("reserve", {**good, "command_id": 7}, "invalid", "command_id"),
            ("open", link.payload(compartment="B01"), "invalid", "reason"),
            ("replay", link.payload(from_seq=0), "invalid", "from_seq"),
            ("replay", link.payload(from_seq="1"), "invalid", "from_seq"),
            ("replay", link.payload(from_seq=10_000), "invalid", "from_seq"),
            ("ping", link.payload(extra=1), "invalid", "extra"),
            ("ping", {}, "invalid", "command_id"),
            ("teleport", link.payload(), "unknown_command", None),
        ]
        for name, payload, code, field in cases:
            reply = await link.central.request(TOPICS, name, raw(payload))
            error = reply["reply"]["error"]
            assert (error["code"], error.get("field")) == (code, field), (name, payload, error)
        assert (await link.ok("ping"))["result"] == "pong"  # nothing crashed
        stats = link.bridge.statistics()
        assert stats.commands_refused == len(cases)
        assert stats.port_errors == stats.callback_errors == 0


async def test_an_oversized_payload_is_refused_unread(broker, db_path: Path, contract) -> None:
    async with linked(broker, db_path, contract, max_command_bytes=4_096) as link:
        big = link.payload(**reserve_fields(link.locker), padding="x" * 5_000)
        reply = await link.central.request(TOPICS, "reserve", big)
        assert reply["command_id"] is None
        assert reply["reply"]["error"]["code"] == "invalid"
        assert reply["reply"]["error"]["field"] == "$"
        assert "4096 bytes" in reply["reply"]["error"]["message"]
        assert link.locker.compartment_state("A03") == "free"


@pytest.mark.mqtt5("response topics; the 3.1.1 counterpart is the next test")
async def test_retained_commands_and_foreign_response_topics_are_refused(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract) as link:
        central = link.central
        await central.publish(
            TOPICS.command("open"),
            link.payload(compartment="B01", reason="retained"),
            retain=True,
            response_topic=f"{TOPICS.reply}/c",
            correlation=b"r1",
        )
        reply = await central.receive(lambda m: m.correlation == b"r1" and "reply" in m.topic)
        assert reply.json()["reply"]["error"] == {
            "code": "invalid",
            "message": "commands must not be retained",
            "field": "$",
        }
        # Clearing it reaches the locker as an empty retained command, refused as well.
        await central.publish(TOPICS.command("open"), b"", retain=True)
        cleared = await central.receive(lambda m: m.topic == TOPICS.reply)
        assert cleared.json()["reply"]["error"]["message"] == "commands must not be retained"
        await central.publish(
            TOPICS.command("ping"),
            link.payload(command_id="elsewhere"),
            response_topic="central/replies",
            correlation=b"r2",
        )
        reply = await central.receive(lambda m: m.topic == TOPICS.reply)
        assert reply.correlation == b"r2"
        assert reply.json()["reply"]["error"]["field"] == "response_topic"
        assert link.locker.driver.pulses == []


@pytest.mark.mqtt311("what 3.1.1 keeps of the test above")
async def test_in_mqtt311_a_retained_command_waiting_on_the_broker_is_refused(
    broker, db_path: Path, contract
) -> None:
    # 3.1.1 has no Retain As Published (MQTT 5 section 3.8.3.1): a retained command
    # published while the locker is subscribed reaches it with the retain flag cleared
    # (3.1.1 section 3.3.1.3) and cannot be told from any other. What the broker keeps
    # retained is sent with the flag at every subscription, and that the locker refuses.
    locker = await Locker.start(db_path)
    central = Central(broker.port, contract=contract, v5=False)
    await central.connect()
    await central.subscribe(TOPICS.reply)
    kept = locker.payload(command_id="kept", compartment="B01", reason="retained")
    await central.publish(TOPICS.command("open"), kept, retain=True)
    async with running(bridge_for(locker, bridge_config(broker.port, broker.protocol))):
        reply = await central.receive(lambda m: m.topic == TOPICS.reply, WAIT_S)
        assert reply.json()["reply"]["error"] == {
            "code": "invalid",
            "message": "commands must not be retained",
            "field": "$",
        }
    assert locker.driver.pulses == []
    await central.close()
    await locker.close()


async def test_open_needs_a_signature_when_keys_are_configured(
    broker, db_path: Path, contract
) -> None:
    keys = {"k1": b"a shared key of the hall"}
    async with linked(broker, db_path, contract, command_keys=keys) as link:
        topic = TOPICS.command("open")
        fields = link.payload(compartment="B01", reason="inspection")
        unsigned = await link.central.request(TOPICS, "open", fields)
        assert unsigned["reply"]["error"]["code"] == "signature_required"
        forged = sign(fields, topic=topic, key_id="k1", key=b"another key")
        bad = await link.central.request(TOPICS, "open", forged)
        assert bad["reply"]["error"]["code"] == "signature_invalid"
        unknown = sign(fields, topic=topic, key_id="k9", key=keys["k1"])
        assert (await link.central.request(TOPICS, "open", unknown))["reply"]["error"][
            "field"
        ] == "signature"
        elsewhere = sign(fields, topic=TOPICS.command("cancel"), key_id="k1", key=keys["k1"])
        moved = await link.central.request(TOPICS, "open", elsewhere)
        assert moved["reply"]["error"]["code"] == "signature_invalid"
        assert link.locker.driver.pulses == []
        good = sign(fields, topic=topic, key_id="k1", key=keys["k1"])
        opened = await link.central.request(TOPICS, "open", good)
        assert opened["reply"]["result"] == "opening"
        assert link.locker.driver.pulsed() == ["B01"]
        # Other commands need none, but a bad one is refused anyway.
        assert (await link.ok("ping"))["result"] == "pong"
        bad_ping = sign(link.payload(), topic=TOPICS.command("ping"), key_id="k1", key=b"x")
        refused = await link.central.request(TOPICS, "ping", bad_ping)
        assert refused["reply"]["error"]["code"] == "signature_invalid"


@pytest.mark.mqtt5("message expiry in the broker; the 3.1.1 counterpart is the next test")
async def test_commands_sent_while_the_locker_is_away_reach_it_unless_expired_in_the_broker(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract) as link:
        central = link.central
        config = bridge_config(broker.port)
    # The bridge has gone (a clean stop); its session stays on the broker.
    locker = await Locker.start(db_path)
    central = Central(broker.port, contract=contract)
    await central.connect()
    await central.subscribe(f"{TOPICS.reply}/#")
    stale = locker.payload(command_id="stale", compartment="B01", reason="too late")
    fresh = locker.payload(command_id="fresh", **reserve_fields(locker))
    for name, payload, expiry in (("open", stale, 1), ("reserve", fresh, 600)):
        await central.publish(
            TOPICS.command(name),
            payload,
            response_topic=f"{TOPICS.reply}/away",
            correlation=payload["command_id"].encode(),
            expiry_s=expiry,
        )
    await asyncio.sleep(2.5)  # the broker lets the one-second message expire
    bridge = bridge_for(locker, config)
    async with running(bridge):
        reply = await central.receive(lambda m: m.correlation == b"fresh", WAIT_S)
        assert reply.json()["reply"]["result"] == "reserved"
        await asyncio.sleep(0.5)
        assert central.unread(lambda m: m.correlation == b"stale") == []
    assert locker.driver.pulses == []
    await central.close()
    await locker.close()


@pytest.mark.mqtt311("what 3.1.1 keeps of the test above: no expiry in the broker")
async def test_in_mqtt311_commands_sent_while_away_reach_the_locker_and_expire_by_expires_at(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract):
        config = bridge_config(broker.port, broker.protocol)
    # The bridge has gone (a clean stop); its session (clean session off) stays.
    locker = await Locker.start(db_path)
    central = Central(broker.port, contract=contract, v5=False)
    await central.connect()
    await central.subscribe(TOPICS.reply)
    stale = locker.payload(
        command_id="stale",
        expires_at=iso(locker.clock.wall_s + 60),
        compartment="B01",
        reason="too late",
    )
    fresh = locker.payload(command_id="fresh", **reserve_fields(locker))
    for name, payload in (("open", stale), ("reserve", fresh)):
        await central.publish(TOPICS.command(name), payload)
    locker.clock.advance(120)  # the locker is away for two minutes; the broker keeps both
    async with running(bridge_for(locker, config)):
        replies = [
            (await central.receive(lambda m: m.topic == TOPICS.reply, WAIT_S)).json()
            for _ in range(2)
        ]
    by_id = {r["command_id"]: r["reply"] for r in replies}
    assert by_id["fresh"]["result"] == "reserved"
    assert by_id["stale"]["error"]["code"] == "expired"
    assert locker.driver.pulses == []
    await central.close()
    await locker.close()


async def test_the_locker_connects_in_its_version_with_a_persistent_session(
    broker, db_path: Path, contract
) -> None:
    async with linked(broker, db_path, contract) as link:
        assert (await link.ok("ping"))["result"] == "pong"
    # Mosquitto logs each connection as "(p<version>, c<clean>, k<keepalive>)": p5 is
    # MQTT 5, p2 MQTT 3.1.1 (its protocol level 4); c0: clean start / clean session off.
    version = "p5" if broker.v5 else "p2"
    assert f"as locker-{TOPICS.site}-{TOPICS.locker} ({version}, c0, k5)" in broker.log()
