"""lockerd with `[http]`: a real daemon process against the simulator serves health,
metrics and the live stream; a card at the simulated reader is a `kiosk` event, a door
opened in the simulator a `state` event (and an `alarm`); SIGTERM then stops it cleanly
(the fixture checks the exit code)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from locker_host.api import token_digest

from .conftest import Locker
from .rig import wait_for

TOKEN = "e2e-admin-token-0123456789"
HTTP = {
    "http": {
        "port": 0,  # any free port: lockerd logs the address it bound
        "tokens": [{"name": "e2e", "role": "admin", "sha256": token_digest(TOKEN)}],
    }
}


def base_url(locker: Locker) -> str:
    def served() -> str | None:
        lines = locker.lockerd.log_lines()
        return next(
            (str(line["url"]) for line in lines if line.get("message") == "http serving"), None
        )

    return str(wait_for(served, timeout=20, what="lockerd to serve HTTP")).rstrip("/")


def events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    name = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            yield name, json.loads(line[len("data: ") :])


def next_event(stream: Iterator[tuple[str, Any]], kind: str) -> Any:
    for name, data in stream:
        if name == kind:
            return data
    raise AssertionError(f"the stream ended before a {kind} event")


@pytest.mark.locker_config(HTTP)
def test_lockerd_serves_health_metrics_and_the_live_stream(locker: Locker) -> None:
    base = base_url(locker)
    assert base.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=base, timeout=10) as client:
        health = client.get("/api/v1/health").json()
        assert health["ok"] and health["commissioned"] is True
        assert [b["bus"] for b in health["buses"]] == [locker.bus]
        assert {r["name"] for r in health["readers"]} >= {"idcard"}
        metrics = client.get("/metrics").text
        assert "locker_bus_transactions_total" in metrics
        assert "locker_bus_round_trip_seconds_bucket" in metrics

        with client.stream("GET", "/api/v1/stream", params={"token": TOKEN}) as response:
            assert response.status_code == 200
            stream = events(response)
            first = next_event(stream, "state")
            cid = locker.compartments()[0]
            assert any(c["compartment"] == cid for c in first["compartments"])

            locker.rig.swipe(locker.card["alice"])  # nothing waits for Alice: a pickup refused
            kiosk = next_event(stream, "kiosk")
            assert kiosk["source"] == "reader" and kiosk["action"] == "pickup"
            assert kiosk["reply"]["error"]["code"] == "nothing_for_you"
            assert locker.card["alice"] not in json.dumps(kiosk)

            locker.rig.force(cid)  # a door opened in the simulator: a state and an alarm
            door_open, alarm = False, None
            for name, data in stream:
                if name == "state":
                    door_open = door_open or any(
                        c["compartment"] == cid and c["door"] == "open"
                        for c in data["compartments"]
                    )
                elif name == "alarm":
                    alarm = data
                if door_open and alarm is not None:
                    break
            assert door_open and alarm is not None
            assert alarm["alarm_id"] == f"door.forced@{cid}"
        # The fixture stops lockerd with SIGTERM and checks it exits 0.
