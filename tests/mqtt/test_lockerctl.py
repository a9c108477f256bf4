"""lockerctl against a running locker: send, events, state, lockers; exit statuses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from mqtt_bridge.ctl import main
from tests.app.harness import DAY, iso, owner_key
from tests.domain.helpers import BOB_ID

from .harness import TOPICS, linked
from .test_events import _until, pending, produce


async def ctl(broker, capsys, *argv: str) -> tuple[int, str, str]:
    version = [] if broker.v5 else ["--mqtt311"]
    command = ["--port", str(broker.port), "--timeout", "5", *version, *argv]
    code = await asyncio.to_thread(main, command)
    out, err = capsys.readouterr()
    return code, out, err


async def test_send_prints_the_reply_and_exits_by_its_outcome(
    broker, db_path: Path, contract, capsys, tmp_path: Path
) -> None:
    keys = {"k1": b"hall key"}
    async with linked(broker, db_path, contract, command_keys=keys) as link:
        # The bridge's expiry check uses the locker's (fake, 2023) clock; lockerctl the real one.
        code, out, _ = await ctl(broker, capsys, "send", "hall1/L1", "ping")
        assert code == 0
        assert json.loads(out)["reply"]["result"] == "pong"
        deadline = iso(link.locker.clock.wall_s + 3 * DAY)
        code, out, _ = await ctl(
            broker, capsys, "send", "hall1/L1", "reserve", "application=APP-9",
            f"owner_key={owner_key(BOB_ID)}", "key_version:=2", "size=M", "department=tax",
            f"deadline={deadline}",
        )  # fmt: skip
        assert code == 0, out
        assert json.loads(out)["reply"]["compartment"] == "A03"
        code, out, _ = await ctl(
            broker, capsys, "send", "hall1/L1", "cancel", "--json", '{"application": "NOPE"}'
        )
        assert code == 1
        assert json.loads(out)["reply"]["error"]["code"] == "unknown_application"
        code, out, _ = await ctl(broker, capsys, "--mqtt311", "send", "hall1/L1", "ping")
        assert code == 0
        assert json.loads(out)["reply"]["result"] == "pong"
        key_file = tmp_path / "k1"
        key_file.write_bytes(b"hall key\n")
        code, out, _ = await ctl(
            broker, capsys, "send", "hall1/L1", "open", "compartment=B01", "reason=inspection",
            "--sign-key-id", "k1", "--sign-key-file", str(key_file),
        )  # fmt: skip
        assert code == 0, out
        assert link.locker.driver.pulsed() == ["B01"]


async def test_events_state_and_lockers(broker, db_path: Path, contract, capsys) -> None:
    async with linked(broker, db_path, contract) as link:
        await produce(link.locker, 2)
        await _until(lambda: link.bridge.statistics().events_published == 3)
        # Published before lockerctl subscribed: with --ack it asks for a replay from the
        # first unacknowledged event, so its cumulative acks cover only what it showed.
        code, out, _ = await ctl(broker, capsys, "events", "hall1/L1", "--count", "3", "--ack")
        assert code == 0
        lines = out.splitlines()
        assert lines[0].startswith("hall1/L1 #1 ")
        assert "locker.restarted" in lines[0]
        assert "compartment.out_of_service compartment=B01 reason=r0" in lines[1]
        await _until(lambda: link.bridge.statistics().events_acked == 3)
        assert await pending(link.locker) == 0

        code, out, _ = await ctl(broker, capsys, "state", "hall1/L1")
        assert code == 0
        assert "A01" in out
        assert "bus0/1" in out
        code, out, _ = await ctl(broker, capsys, "state", "hall1/L1", "--json")
        assert json.loads(out)["locker"] == "L1"

        code, out, _ = await ctl(broker, capsys, "lockers", "--wait", "0.5")
        assert code == 0
        assert "hall1" in out
        assert "online" in out
        assert TOPICS.root


async def test_exit_statuses_without_a_broker_or_with_bad_usage(capsys) -> None:
    code = await asyncio.to_thread(main, ["--port", "1", "send", "hall1/L1", "ping"])
    assert code == 3
    assert "cannot reach" in capsys.readouterr().err
    code = await asyncio.to_thread(main, ["--port", "1", "--cert", "x", "state", "hall1/L1"])
    assert code == 2
