"""Each endpoint on a real service and SQLite file: what it answers, what it does,
and what the audit log says about who did it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx

from locker_host.domain import CompartmentState
from tests.daemon.parts import ALICE, BOB

from .locker_ops import certificate, door
from .rig import api_rig


def no_id_number(text: str) -> None:
    assert ALICE not in text and BOB not in text


async def test_health_says_degraded_without_buses_answering_and_names_the_parts(
    tmp_path: Path,
) -> None:
    async with api_rig(tmp_path) as rig, rig.client(None) as client:
        body = (await client.get("/api/v1/health")).json()
    assert body == {
        "ok": True,
        "status": "ok",
        "buses": [],
        "readers": [],
        "mqtt": None,
        "commissioned": True,
    }


async def test_state_compartments_and_items_carry_no_personal_data(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig:
        compartment = await certificate(rig.parts, "APP-1", ALICE)
        async with rig.client("staff") as client:
            state = (await client.get("/api/v1/state")).json()
            compartments = (await client.get("/api/v1/compartments")).json()
            items = (await client.get("/api/v1/items")).json()
    assert state["ok"] and state["state"]["site"] == "hh"
    assert compartments["compartments"] == state["state"]["compartments"]
    (line,) = items["items"]
    assert line["item"] == "APP-1" and line["compartment"] == compartment
    assert line["kind"] == "certificate" and line["overdue"] is False
    assert line["deadline"].endswith("+00:00")
    for body in (state, compartments, items):
        no_id_number(str(body))
        assert "owner" not in str(body)


async def test_an_alarm_is_listed_acknowledged_once_and_refused_once_cleared(
    tmp_path: Path,
) -> None:
    async with api_rig(tmp_path) as rig:
        await door(rig.parts, "A02", opened=True)  # forced: no open under way
        async with rig.client("staff") as client:
            (alarm,) = (await client.get("/api/v1/alarms")).json()["alarms"]
            assert alarm == {
                "alarm_id": "door.forced@A02",
                "kind": "door.forced",
                "compartment": "A02",
                "board": None,
                "active": True,
                "acknowledged": None,
            }
            ack = await client.post("/api/v1/alarms/door.forced@A02/ack")
            assert ack.status_code == 200 and ack.json() == {
                "ok": True,
                "result": "accepted",
                "detail": "",
            }
            (alarm,) = (await client.get("/api/v1/alarms")).json()["alarms"]
            assert alarm["acknowledged"]["by"] == "central:http:staff-1"
            gone = await client.post("/api/v1/alarms/door.forced@A09/ack")
            assert gone.status_code == 409
            assert gone.json()["error"]["code"] == "unknown_alarm"
            audit = (
                await client.get("/api/v1/audit", params={"action": "acknowledge_alarm"})
            ).json()
    assert [(e["actor"], e["outcome"]) for e in audit["entries"]] == [
        ("central:http:staff-1", "denied"),
        ("central:http:staff-1", "ok"),
    ]


async def test_staff_open_with_a_reason_pulses_and_names_the_operator(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client("staff") as client:
        reply = await client.post(
            "/api/v1/staff/open", json={"compartment": "A01", "reason": "citizen left a bag"}
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["result"] == "opening" and body["opens"][0]["compartment"] == "A01"
        assert rig.parts.driver.pulsed() == ["A01"]
        unknown = await client.post(
            "/api/v1/staff/open", json={"compartment": "Z99", "reason": "test"}
        )
        assert unknown.status_code == 409
        assert unknown.json()["error"]["code"] == "unknown_compartment"
        entries = (await client.get("/api/v1/audit", params={"actor": "central"})).json()
    opened = [e for e in entries["entries"] if e["outcome"] == "ok"]
    assert opened[0]["actor"] == "central:http:staff-1"
    assert opened[0]["compartment"] == "A01"


async def test_a_technician_takes_a_compartment_out_of_service_and_back(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client("technician") as client:
        out = await client.post(
            "/api/v1/staff/service",
            json={"compartment": "A04", "in_service": False, "reason": "lock replaced"},
        )
        assert out.status_code == 200, out.text
        state = rig.parts.service.state.compartments["A04"].state  # type: ignore[index]
        assert state is CompartmentState.OUT_OF_SERVICE
        again = await client.post(
            "/api/v1/staff/service",
            json={"compartment": "A04", "in_service": False, "reason": "again"},
        )
        assert again.json()["detail"] == "already out of service"
        back = await client.post(
            "/api/v1/staff/service",
            json={"compartment": "A04", "in_service": True, "reason": "fixed"},
        )
        assert back.status_code == 200
    assert rig.parts.service.state.compartments["A04"].state is CompartmentState.FREE  # type: ignore[index]


async def test_recall_lists_overdue_items_of_a_department_and_opens_nothing(
    tmp_path: Path,
) -> None:
    async with api_rig(tmp_path) as rig:
        compartment = await certificate(rig.parts, "APP-9", BOB)
        rig.parts.clock.advance(4 * 86_400)
        await rig.parts.service.on_timer()
        pulses = len(rig.parts.driver.pulses)
        async with rig.client("staff") as client:
            market = (
                await client.post("/api/v1/staff/recall", json={"department": "market"})
            ).json()
            tax = (await client.post("/api/v1/staff/recall", json={"department": "tax"})).json()
            items = (await client.get("/api/v1/items")).json()["items"]
    assert [(e["item"], e["compartment"]) for e in market["entries"]] == [("APP-9", compartment)]
    assert tax["entries"] == []
    assert items[0]["overdue"] is True
    assert len(rig.parts.driver.pulses) == pulses


async def test_audit_filters_and_the_csv_export(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig:
        await certificate(rig.parts, "APP-1", ALICE)
        async with rig.client("technician") as client:
            everything = (await client.get("/api/v1/audit", params={"limit": 1000})).json()
            staff = (await client.get("/api/v1/audit", params={"actor": "staff"})).json()
            two = (await client.get("/api/v1/audit", params={"limit": 2})).json()
            later = (
                await client.get("/api/v1/audit", params={"since": "2999-01-01T00:00:00Z"})
            ).json()
            exported = await client.get("/api/v1/audit.csv")
            bad = await client.get("/api/v1/audit", params={"since": "yesterday"})
    seqs = [e["seq"] for e in everything["entries"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) >= 3
    assert {e["actor"] for e in staff["entries"]} == {"staff:M-1"}
    assert [e["seq"] for e in two["entries"]] == seqs[:2]
    assert later["entries"] == []
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "query.since"
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == [
        "seq",
        "recorded_at",
        "actor",
        "action",
        "outcome",
        "compartment",
        "details",
        "hash",
    ]
    assert [int(r[0]) for r in rows[1:]] == sorted(seqs)
    assert all(len(r[7]) == 64 for r in rows[1:])
    no_id_number(exported.text)
    assert "personal_ref" not in exported.text


async def test_the_csv_defuses_cells_a_spreadsheet_would_run(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client("admin") as client:
        await client.post(
            "/api/v1/staff/service",
            json={"compartment": "A04", "in_service": False, "reason": '=HYPERLINK("x")'},
        )
        exported = (await client.get("/api/v1/audit.csv", params={"action": "set_service"})).text
    (row,) = list(csv.reader(io.StringIO(exported)))[1:]
    assert row[6].startswith("{")  # details are a JSON object: never a formula
    assert "=HYPERLINK" in row[6]


async def test_boards_gives_the_buses_and_the_lockers_view(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client("technician") as client:
        body = (await client.get("/api/v1/boards")).json()
    assert body["buses"] == []
    assert set(body["boards"].values()) == {"online"}


async def test_metrics_in_prometheus_text(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig:
        await door(rig.parts, "A02", opened=True)
        async with rig.client(None) as client:
            response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'locker_compartments{state="faulty"} 1.0' in text
    assert 'locker_alarms_open{acknowledged="false"} 1.0' in text
    assert "locker_outbox_pending " in text and "locker_outbox_oldest_age_seconds " in text
    assert "locker_service_commits_total " in text
    assert "locker_mqtt_connected" not in text  # no bridge in this rig


async def test_the_pages_are_served_and_the_root_goes_to_the_kiosk(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    for name in ("kiosk", "staff", "assets"):
        (pages / name).mkdir(parents=True)
    (pages / "kiosk" / "index.html").write_text("<title>kiosk</title>", encoding="utf-8")
    (pages / "staff" / "index.html").write_text("<title>staff</title>", encoding="utf-8")
    (pages / "assets" / "app.js").write_text("export {};", encoding="utf-8")
    async with api_rig(tmp_path) as rig:
        app = rig.app_with(pages=pages)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://locker") as client:
            root = await client.get("/")
            assert root.status_code == 307 and root.headers["location"] == "/kiosk/"
            assert "kiosk" in (await client.get("/kiosk/")).text
            assert "staff" in (await client.get("/staff/")).text
            script = await client.get("/assets/app.js")
            assert script.status_code == 200 and "javascript" in script.headers["content-type"]
