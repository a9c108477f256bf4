"""The kiosk endpoints through the daemon's Presentations: arming a drop-off, codes,
a forwarded swipe; every outcome reaches the kiosk listeners as source "http"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.daemon.parts import ALICE, BOB, iso

from .locker_ops import PICKUP_CODE, certificate
from .rig import TOKENS, api_rig


async def test_services_lists_what_the_kiosk_offers(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client("kiosk") as client:
        body = (await client.get("/api/v1/kiosk/services")).json()
    assert body == {
        "ok": True,
        "services": [
            {
                "name": "licence",
                "title_zh": "执照",
                "title_en": "Licence",
                "department": "market",
                "size": "M",
            }
        ],
        "sizes": ["S", "M", "L"],
        "armed": None,
    }


async def test_an_armed_dropoff_is_started_by_the_next_id_card_swipe(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client("kiosk") as client:
        seen: list[Any] = []
        rig.context.kiosk.add_listener(seen.append)
        armed = await client.post(
            "/api/v1/kiosk/dropoff", json={"service": "licence", "size": "L", "accessible": True}
        )
        assert armed.status_code == 200, armed.text
        assert armed.json()["armed"] == {
            "service": "licence",
            "department": "market",
            "size": "L",
            "accessible": True,
            "expires_in_s": 30.0,
        }
        services = (await client.get("/api/v1/kiosk/services")).json()
        assert services["armed"]["service"] == "licence"
        swiped = await client.post(
            "/api/v1/kiosk/swipe", json={"reader": "sam", "id_number": ALICE}
        )
        assert swiped.status_code == 200, swiped.text
        opens = swiped.json()["opens"]
        assert [o["compartment"] for o in opens] == ["A03"]  # the one L compartment
        assert (await client.get("/api/v1/kiosk/services")).json()["armed"] is None
    assert [(o.source, o.action) for o in seen] == [("http", "arm"), ("http", "dropoff")]
    assert ALICE not in repr([o.reply for o in seen])


async def test_cancel_disarms_and_an_unknown_service_is_invalid(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client("kiosk") as client:
        unknown = await client.post("/api/v1/kiosk/dropoff", json={"service": "moon"})
        assert unknown.status_code == 422
        assert unknown.json()["error"] == {
            "code": "invalid",
            "message": "one of the configured services (licence)",
            "field": "service",
        }
        await client.post("/api/v1/kiosk/dropoff", json={"service": "licence"})
        cancelled = await client.post("/api/v1/kiosk/cancel")
        assert cancelled.json() == {"ok": True, "armed": None}
        assert rig.parts.presentations.armed() is None


async def test_a_pickup_code_opens_the_proxys_compartment_and_a_wrong_one_is_refused(
    tmp_path: Path,
) -> None:
    async with api_rig(tmp_path) as rig:
        compartment = await certificate(rig.parts, "APP-1", BOB, pickup_code=PICKUP_CODE)
        async with rig.client("kiosk") as client:
            wrong = await client.post("/api/v1/kiosk/pickup-code", json={"code": "11112222"})
            assert wrong.status_code == 403, wrong.text
            assert wrong.json()["error"]["code"] in ("wrong_code", "nothing_for_you")
            right = await client.post("/api/v1/kiosk/pickup-code", json={"code": PICKUP_CODE})
    assert right.status_code == 200, right.text
    assert [o["compartment"] for o in right.json()["opens"]] == [compartment]
    assert PICKUP_CODE not in right.text


async def test_a_dropoff_code_brings_its_own_service(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig:
        expected = (
            await rig.parts.api.handle(
                "expect_dropoff",
                {
                    "command_id": "e1",
                    "expires_at": iso(rig.parts.clock.wall_s + 3600),
                    "application": "APP-7",
                    "department": "market",
                    "size": "M",
                    "valid_until": iso(rig.parts.clock.wall_s + 86_400),
                },
            )
        ).to_json()
        assert expected["ok"], expected
        async with rig.client("kiosk") as client:
            reply = await client.post("/api/v1/kiosk/dropoff-code", json={"code": expected["code"]})
    assert reply.status_code == 200, reply.text
    assert [o["compartment"] for o in reply.json()["opens"]] == ["A02"]


async def test_a_swipe_for_someone_with_a_certificate_opens_it(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig:
        compartment = await certificate(rig.parts, "APP-2", ALICE)
        async with rig.client("kiosk") as client:
            reply = await client.post(
                "/api/v1/kiosk/swipe", json={"reader": "sam", "id_number": ALICE}
            )
    assert reply.status_code == 200, reply.text
    assert [o["compartment"] for o in reply.json()["opens"]] == [compartment]
    assert ALICE not in reply.text


async def test_swipe_errors_are_typed_and_never_quote_the_value(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client("kiosk") as client:
        bad = await client.post(
            "/api/v1/kiosk/swipe", json={"reader": "sam", "id_number": "110105194912310021"}
        )
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_id_number"
        assert "110105194912310021" not in bad.text
        foreign = await client.post(
            "/api/v1/kiosk/swipe",
            json={"reader": "keyboard", "code": "12345678", "kiosk_token": "someone-elses-token"},
        )
        assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "unknown_kiosk"
        mismatch = await client.post(
            "/api/v1/kiosk/swipe", json={"reader": "sam", "code": "12345678"}
        )
        assert mismatch.status_code == 422 and mismatch.json()["error"]["code"] == "reader_mismatch"
        nothing = await client.post("/api/v1/kiosk/swipe", json={"reader": "sam", "id_number": BOB})
        assert nothing.status_code == 403 and nothing.json()["error"]["code"] == "nothing_for_you"


async def test_the_kiosk_token_in_the_body_wins_over_the_bearer(tmp_path: Path) -> None:
    """An admin forwarding for a kiosk names the kiosk: its SAM makes the card strong."""
    async with api_rig(tmp_path) as rig:
        compartment = await certificate(rig.parts, "APP-3", ALICE)
        async with rig.client("admin") as client:
            as_kiosk = await client.post(
                "/api/v1/kiosk/swipe",
                json={"reader": "sam", "id_number": ALICE, "kiosk_token": TOKENS["kiosk"]},
            )
    assert as_kiosk.status_code == 200, as_kiosk.text
    assert [o["compartment"] for o in as_kiosk.json()["opens"]] == [compartment]
