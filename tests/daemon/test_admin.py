"""The admin socket: JSON lines in and out, the application command API behind it."""

from __future__ import annotations

import asyncio
import json
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from locker_host.app import COMMANDS, Done, Reply
from locker_host.daemon.admin import MAX_LINE, AdminServer, call
from locker_host.store import Store

from .parts import ALICE, Parts, iso, owner_key

HOUR = 3600.0


async def echo(name: str, payload: object) -> Reply:
    return Done({"command": name, "payload": payload})


async def ask(socket: Path, name: str, payload: object = None) -> dict[str, Any]:
    return await asyncio.to_thread(
        call, socket, name, {} if payload is None else payload, timeout=5
    )


async def test_bad_lines_are_answered_and_the_connection_stays_usable(tmp_path: Path) -> None:
    server = AdminServer(tmp_path / "run" / "admin.sock", echo)
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        replies = []
        for line in (b"not json\n", b"[1, 2]\n", b'{"payload": {}}\n', b'{"command": "ping"}\n'):
            writer.write(line)
            await writer.drain()
            replies.append(json.loads(await reader.readline()))
        writer.close()
        await writer.wait_closed()
    finally:
        await server.close()
    assert [r["ok"] for r in replies] == [False, False, False, True]
    assert replies[0]["error"]["code"] == "invalid"
    assert replies[1]["error"]["field"] == "$"
    assert replies[2]["error"]["field"] == "command"
    assert replies[3] == {"ok": True, "command": "ping", "payload": {}}


async def test_an_oversized_line_is_refused_and_the_connection_closed(tmp_path: Path) -> None:
    server = AdminServer(tmp_path / "admin.sock", echo)
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(str(server.path))
        writer.write(b"x" * (MAX_LINE + 10) + b"\n")
        await writer.drain()
        reply = json.loads(await reader.readline())
        assert await reader.read() == b""
        writer.close()
    finally:
        await server.close()
    assert reply["error"]["code"] == "invalid"


async def test_the_socket_is_private_and_a_stale_one_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "admin.sock"
    first = AdminServer(path, echo)
    await first.start()
    assert stat.S_IMODE(path.stat().st_mode) == 0o660
    with pytest.raises(OSError, match="already listening"):
        await AdminServer(path, echo).start()
    await first.close()
    assert not path.exists()
    path.write_text("")  # what a killed daemon leaves behind (a stale socket file)
    second = AdminServer(path, echo)
    await second.start()
    assert (await ask(path, "ping"))["ok"]
    await second.close()


def test_the_client_names_an_unreachable_daemon(tmp_path: Path) -> None:
    with pytest.raises(ConnectionError, match="cannot reach lockerd"):
        call(tmp_path / "nobody.sock", "ping", {})


def envelope(command_id: str, now: float) -> dict[str, Any]:
    return {"command_id": command_id, "expires_at": iso(now + HOUR)}


def api_cases(now: float) -> dict[str, tuple[dict[str, Any], str]]:
    """For each API command: a payload and what the API answers (a result or an error code)."""
    reserve = {
        "application": "APP-1",
        "owner_key": owner_key(ALICE),
        "key_version": 2,
        "size": "S",
        "department": "market",
        "deadline": iso(now + 48 * HOUR),
    }
    return {
        "reserve": (reserve, "reserved"),
        "cancel": ({"application": "NOPE"}, "unknown_application"),
        "expect_dropoff": (
            {
                "application": "D-1",
                "department": "tax",
                "size": "M",
                "valid_until": iso(now + HOUR),
            },
            "accepted",
        ),
        "extend_deadline": (
            {"application": "NOPE", "deadline": iso(now + HOUR)},
            "unknown_application",
        ),
        "recall_list": ({"department": "market"}, "recall_entries"),
        "open": ({"compartment": "A01", "reason": "test"}, "opening"),
        "set_service": (
            {"compartment": "A02", "in_service": False, "reason": "broken"},
            "accepted",
        ),
        "inventory": ({}, "inventory_report"),
    }


async def test_every_api_command_reaches_the_command_api(tmp_path: Path) -> None:
    parts = await Parts.open(tmp_path)
    server = AdminServer(tmp_path / "admin.sock", parts.handler)
    await server.start()
    try:
        cases = api_cases(parts.clock.wall_s)
        assert set(cases) == set(COMMANDS)
        for n, (name, (payload, expected)) in enumerate(cases.items()):
            reply = await ask(
                server.path, name, {**envelope(f"cmd-{n}", parts.clock.wall_s), **payload}
            )
            answered = reply.get("result") if reply["ok"] else reply["error"]["code"]
            assert answered == expected, (name, reply)
        again = await ask(
            server.path, "reserve", {**envelope("cmd-0", parts.clock.wall_s), **cases["reserve"][0]}
        )
        assert again["result"] == "reserved"  # the stored reply: de-duplicated by command_id
        bad = await ask(server.path, "reserve", {"command_id": "x"})
        assert bad["error"]["code"] == "invalid" and bad["error"]["field"] == "expires_at"
        assert len(parts.driver.pulses) == 1  # the one remote open
    finally:
        await server.close()
        await parts.close()


async def test_unknown_commands_list_the_known_ones(tmp_path: Path) -> None:
    parts = await Parts.open(tmp_path)
    try:
        reply = (await parts.handler("launch", {})).to_json()
        assert reply["error"]["code"] == "unknown_command"
        assert {"reserve", "inventory", "ping", "arm_dropoff"} <= set(reply["known"])
        assert ((await parts.handler("ping", [])).to_json())["error"]["field"] == "payload"
    finally:
        await parts.close()


async def test_the_daemons_own_commands(tmp_path: Path) -> None:
    parts = await Parts.open(tmp_path)
    handler = parts.handler
    try:
        assert (await handler("ping", {})).to_json() == {"ok": True, "pong": True}
        state = (await handler("state", {})).to_json()
        assert state["ok"] and state["state"]["site"] == "hh"
        events = (await handler("events", {})).to_json()
        assert [e["type"] for e in events["events"]] == ["locker.restarted"]
        assert ((await handler("events", {"after_seq": -1})).to_json())["error"][
            "field"
        ] == "after_seq"
        assert ((await handler("commissioning", {})).to_json())["commissioned"] is True
        services = (await handler("services", {})).to_json()
        assert services["services"][0]["name"] == "licence" and services["armed"] is None
        assert ((await handler("arm_dropoff", {"service": "nope"})).to_json())["error"][
            "field"
        ] == "service"
        assert ((await handler("arm_dropoff", {"service": "licence", "x": 1})).to_json())["error"][
            "field"
        ] == "x"
        armed = (await handler("arm_dropoff", {"service": "licence", "accessible": True})).to_json()
        assert (
            armed["armed"] == "licence" and armed["department"] == "market" and armed["size"] == "M"
        )
        assert ((await handler("services", {})).to_json())["armed"] == "licence"
        assert (await handler("disarm_dropoff", {})).to_json() == {"ok": True}
        assert ((await handler("health", {})).to_json())["buses"] == []
    finally:
        await parts.close()


async def test_the_admin_command_line_fills_the_envelope(tmp_path: Path) -> None:
    parts = await Parts.open(tmp_path)
    server = AdminServer(tmp_path / "admin.sock", parts.handler)
    await server.start()

    async def lockerd(*args: str) -> tuple[int, dict[str, Any]]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "locker_host.daemon",
            "admin",
            "--socket",
            str(server.path),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, _ = await process.communicate()
        assert process.returncode is not None
        return process.returncode, json.loads(out) if out.strip() else {}

    try:
        code, reply = await lockerd("recall_list", "department=market")
        assert code == 0 and reply["result"] == "recall_entries", reply
        code, reply = await lockerd("cancel", "application=NOPE")
        assert code == 1 and reply["error"]["code"] == "unknown_application"
        code, reply = await lockerd(
            "arm_dropoff", "--json", '{"service": "licence", "accessible": true}'
        )
        assert code == 0 and reply["accessible"] is True
        code, reply = await lockerd("arm_dropoff", "service=licence", "accessible:=false")
        assert code == 0 and reply["accessible"] is False
        code, _ = await lockerd("ping", "oops")
        assert code == 2
    finally:
        await server.close()
        await parts.close()
    audit_actors = {row.actor for row in parts_audit(tmp_path)}
    assert any(actor.startswith("central:admin:") for actor in audit_actors), audit_actors


def parts_audit(tmp_path: Path) -> list[Any]:
    store = Store.open(tmp_path / "locker.db", now=datetime.now(UTC))
    try:
        return store.audit_entries(limit=1000)
    finally:
        store.close()
