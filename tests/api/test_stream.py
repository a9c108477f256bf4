"""The live stream over a real server: the snapshot on connect and after changes,
kiosk outcomes (the HTTP kiosk's and a reader's), alarms raised, acknowledged and
cleared, pings; and a clean stop with a browser still connected."""

from __future__ import annotations

from pathlib import Path

import pytest

from locker_host.domain import Assurance
from locker_host.readers import CardPresented, present_id_number
from tests.daemon.parts import ALICE, KEYS

from .locker_ops import certificate, door
from .rig import TOKENS, api_rig, auth
from .sse import Event, EventReader, open_stream, serving

STAFF = {"headers": auth("staff")}


async def test_state_kiosk_and_alarm_events(tmp_path: Path) -> None:
    query = {"params": {"token": TOKENS["kiosk"]}}  # EventSource sends no headers
    async with (
        api_rig(tmp_path) as rig,
        serving(rig.app) as base,
        open_stream(base, **query) as (client, stream),
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = EventReader(stream)
        first = await events.next()
        assert first.event == "state"
        assert first.data["compartments"][1]["door"] == "closed"

        await door(rig.parts, "A02", opened=True)  # forced
        seen = await events.gather("state", "alarm")
        assert seen["state"].data["compartments"][1]["state"] == "faulty"
        assert seen["alarm"].data["alarm_id"] == "door.forced@A02"
        assert seen["alarm"].data["active"] is True

        await client.post("/api/v1/kiosk/dropoff", json={"service": "licence"}, **_kiosk())
        arm = await events.until("kiosk")
        assert arm.data["source"] == "http" and arm.data["action"] == "arm"
        assert arm.data["reply"]["armed"]["service"] == "licence"
        assert arm.data["at"].endswith("+00:00")

        await client.post("/api/v1/alarms/door.forced@A02/ack", **STAFF)
        acked = await events.until("alarm")
        assert acked.data["acknowledged"]["by"] == "central:http:staff-1"

        await door(rig.parts, "A02", opened=False, item=False)
        await client.post(
            "/api/v1/staff/service",
            json={"compartment": "A02", "in_service": True, "reason": "checked"},
            headers=auth("technician"),
        )
        cleared = await events.until("alarm")
        assert cleared.data["alarm_id"] == "door.forced@A02"
        assert cleared.data["active"] is False


def _kiosk() -> dict[str, dict[str, str]]:
    return {"headers": auth("kiosk")}


async def test_a_card_at_the_physical_reader_is_a_kiosk_event(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig:
        compartment = await certificate(rig.parts, "APP-1", ALICE)
        async with serving(rig.app) as base, open_stream(base, **STAFF) as (_, stream):
            events = EventReader(stream)
            await events.until("state")
            card = present_id_number(KEYS.owner, ALICE, assurance=Assurance.STRONG, source="idcard")
            assert isinstance(card, CardPresented)
            await rig.parts.presentations.present(card)  # what the daemon's reader pump does
            kiosk = await events.until("kiosk")
    assert kiosk.data["source"] == "reader" and kiosk.data["action"] == "pickup"
    assert [o["compartment"] for o in kiosk.data["reply"]["opens"]] == [compartment]
    assert ALICE not in str(kiosk.data)


async def test_a_burst_of_commits_is_coalesced_and_the_last_state_wins(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig:
        app = rig.app_with(state_interval_s=0.5)
        async with serving(app) as base, open_stream(base, **STAFF) as (_, stream):
            events = EventReader(stream)
            await events.until("state")
            for _ in range(5):
                await door(rig.parts, "A01", opened=True)
                await door(rig.parts, "A01", opened=False, item=False)
            await door(rig.parts, "A04", opened=True)
            states = []
            while not states or states[-1]["compartments"][3]["door"] != "open":
                states.append((await events.until("state")).data)
    # 11 commits: the first may go out at once, the rest within one interval, together.
    assert len(states) <= 2


async def test_pings_keep_a_quiet_stream_alive(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig:
        app = rig.app_with(ping_interval_s=0.05)
        async with serving(app) as base, open_stream(base, **STAFF) as (_, stream):
            events = EventReader(stream)
            await events.until("state")
            ping = await events.next()
    assert ping == Event("", "ping")


async def test_the_server_stops_while_a_browser_is_still_reading(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig:
        server = serving(rig.app)
        base = await server.__aenter__()
        async with open_stream(base, **STAFF) as (_, stream):
            events = EventReader(stream)
            await events.until("state")
            assert rig.app.state.hub.clients == 1
            # HttpServer.stop() ends the stream first, so uvicorn's graceful stop is quick.
            await server.__aexit__(None, None, None)
            with pytest.raises(EOFError):
                await events.next()
        assert rig.app.state.hub.clients == 0
