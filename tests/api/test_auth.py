"""Every endpoint refuses a missing or unknown token (401), the wrong role (403
forbidden), and a kiosk endpoint from an address outside kiosk_from (403
kiosk_not_local); every refusal is the typed error body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .rig import REMOTE, TOKENS, api_rig

BODIES: dict[str, Any] = {
    "/api/v1/staff/open": {"compartment": "A01", "reason": "test"},
    "/api/v1/staff/service": {"compartment": "A01", "in_service": False, "reason": "test"},
    "/api/v1/staff/recall": {},
    "/api/v1/kiosk/swipe": {"reader": "keyboard", "code": "12345678"},
    "/api/v1/kiosk/dropoff": {"service": "licence"},
    "/api/v1/kiosk/dropoff-code": {"code": "12345678"},
    "/api/v1/kiosk/pickup-code": {"code": "12345678"},
}
# (method, path, the roles allowed)
ALL = {"kiosk", "staff", "technician", "admin"}
STAFF = {"staff", "technician", "admin"}
TECH = {"technician", "admin"}
KIOSK = {"kiosk", "admin"}
ENDPOINTS = [
    ("GET", "/api/v1/state", ALL),
    ("GET", "/api/v1/stream", ALL),
    ("GET", "/api/v1/compartments", STAFF),
    ("GET", "/api/v1/items", STAFF),
    ("GET", "/api/v1/alarms", STAFF),
    ("POST", "/api/v1/alarms/door.forced@A01/ack", STAFF),
    ("GET", "/api/v1/audit", STAFF),
    ("GET", "/api/v1/audit.csv", TECH),
    ("GET", "/api/v1/boards", TECH),
    ("POST", "/api/v1/staff/open", STAFF),
    ("POST", "/api/v1/staff/service", TECH),
    ("POST", "/api/v1/staff/recall", STAFF),
    ("GET", "/api/v1/kiosk/services", KIOSK),
    ("POST", "/api/v1/kiosk/swipe", KIOSK),
    ("POST", "/api/v1/kiosk/dropoff", KIOSK),
    ("POST", "/api/v1/kiosk/dropoff-code", KIOSK),
    ("POST", "/api/v1/kiosk/pickup-code", KIOSK),
    ("POST", "/api/v1/kiosk/cancel", KIOSK),
]
IDS = [f"{m} {p}" for m, p, _ in ENDPOINTS]


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize(("method", "path", "roles"), ENDPOINTS, ids=IDS)
async def test_no_token_is_unauthenticated(
    tmp_path: Path, method: str, path: str, roles: set[str]
) -> None:
    async with api_rig(tmp_path) as rig, rig.client(None) as client:
        response = await client.request(method, path, json=BODIES.get(path))
        assert_error(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "roles"), ENDPOINTS, ids=IDS)
async def test_an_unknown_token_is_unauthenticated(
    tmp_path: Path, method: str, path: str, roles: set[str]
) -> None:
    async with api_rig(tmp_path) as rig, rig.client(None) as client:
        headers = {"Authorization": "Bearer not-a-token-of-ours-at-all"}
        response = await client.request(method, path, json=BODIES.get(path), headers=headers)
        assert_error(response, 401, "unauthenticated")


RESTRICTED = [e for e in ENDPOINTS if e[2] != ALL]


@pytest.mark.parametrize(
    ("method", "path", "roles"), RESTRICTED, ids=[f"{m} {p}" for m, p, _ in RESTRICTED]
)
async def test_a_role_without_the_grant_is_forbidden(
    tmp_path: Path, method: str, path: str, roles: set[str]
) -> None:
    denied = sorted(ALL - roles)
    async with api_rig(tmp_path) as rig:
        for role in denied:
            async with rig.client(role) as client:
                response = await client.request(method, path, json=BODIES.get(path))
                assert_error(response, 403, "forbidden")
                assert response.json()["error"]["role"] == role


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, roles in ENDPOINTS if roles == KIOSK]
)
async def test_kiosk_endpoints_refuse_other_addresses_whatever_the_role(
    tmp_path: Path, method: str, path: str
) -> None:
    async with api_rig(tmp_path) as rig:
        for role in ("kiosk", "admin"):
            async with rig.client(role, peer=REMOTE) as client:
                response = await client.request(method, path, json=BODIES.get(path))
                assert_error(response, 403, "kiosk_not_local")


async def test_only_the_stream_takes_the_token_in_the_query(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client(None) as client:
        response = await client.get("/api/v1/state", params={"token": TOKENS["admin"]})
        assert_error(response, 401, "unauthenticated")
        response = await client.get("/api/v1/stream", params={"token": "wrong-token-xxxxxxxx"})
        assert_error(response, 401, "unauthenticated")
        # A good query token is accepted: the stream itself is read in test_stream.py, with
        # a real server (ASGITransport buffers a whole response, and a stream never ends).


async def test_health_and_metrics_need_no_token(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client(None) as client:
        assert (await client.get("/api/v1/health")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200


async def test_unknown_paths_and_methods_are_typed_errors(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client("admin") as client:
        assert_error(await client.get("/api/v1/nothing"), 404, "not_found")
        assert_error(await client.delete("/api/v1/state"), 405, "method_not_allowed")


async def test_a_bad_body_is_invalid_and_names_the_field(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig, rig.client("admin") as client:
        response = await client.post("/api/v1/staff/open", json={"compartment": "A01"})
        assert_error(response, 422, "invalid")
        assert response.json()["error"]["field"] == "body.reason"
        response = await client.post(
            "/api/v1/staff/open", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert_error(response, 422, "invalid")
