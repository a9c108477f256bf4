"""Control commands against a world, with a fake clock: validation and effects."""

from __future__ import annotations

import pytest

from protocol import reference_board as rb
from protocol.modbus import encode_request
from simulator.boards import ReferenceBoard
from simulator.layout import simple_layout
from simulator.physics import UserBehaviour

from .fake_context import FakeContext
from .helpers import read_status

SENSOR = {"cmd": "sensor", "compartment": "A01"}


@pytest.fixture
def ctx() -> FakeContext:
    return FakeContext(simple_layout())


def error(reply: dict[str, object]) -> tuple[str, str]:
    assert reply["ok"] is False, reply
    err = reply["error"]
    assert isinstance(err, dict)
    return err["code"], err["message"]


@pytest.mark.parametrize(
    ("request_", "code", "words"),
    [
        ([1, 2], "bad_request", "JSON object"),
        ("status", "bad_request", "JSON object"),
        ({}, "bad_request", "cmd: missing"),
        ({"cmd": "opne"}, "unknown_command", "opne"),
        ({"cmd": 7}, "unknown_command", "7"),
        ({"cmd": "open"}, "bad_argument", "compartment: missing"),
        ({"cmd": "open", "compartment": 3}, "bad_argument", "compartment: must be a compartment"),
        ({"cmd": "open", "compartment": "Z99"}, "unknown_compartment", "Z99"),
        ({"cmd": "open", "compartment": "A01", "force": True}, "bad_argument", "force: open takes"),
        ({"cmd": "put", "compartment": "A01", "count": 0}, "bad_argument", "count: 0 is outside"),
        ({"cmd": "put", "compartment": "A01", "count": True}, "bad_argument", "must be an integer"),
        ({"cmd": "offline", "unit": 9}, "unknown_board", "unit 9"),
        ({"cmd": "offline", "unit": 300}, "bad_argument", "300 is outside 0..247"),
        ({"cmd": "offline", "unit": 1, "bus": "nope"}, "unknown_bus", "nope"),
        ({"cmd": "fault", "unit": 1, "no_reply": 2}, "bad_argument", "no_reply: 2 is outside 0..1"),
        ({"cmd": "fault", "unit": 1, "late": "often"}, "bad_argument", "late: must be a number"),
        ({**SENSOR, "sensor": "lock", "mode": "normal"}, "bad_argument", "sensor"),
        ({**SENSOR, "sensor": "door", "mode": "stuck"}, "bad_argument", "reads: missing"),
        ({**SENSOR, "sensor": "door", "mode": "stuck", "reads": "present"},
         "bad_argument", "door sensor reads closed or open"),
        ({"cmd": "user", "auto_open_after": -1}, "bad_argument", "auto_open_after"),
        ({"cmd": "stats", "since": -1}, "bad_argument", "since"),
        ({"cmd": "run", "scenario": 5}, "bad_argument", "scenario: must be a string"),
        ({"cmd": "open", "compartment": "A01"}, "door_locked", "A01"),
        ({"cmd": "close", "compartment": "A01"}, "door_already_closed", "A01"),
        ({"cmd": "take", "compartment": "A01"}, "door_closed", "A01"),
    ],
)  # fmt: skip
def test_bad_requests_get_a_clear_error(
    ctx: FakeContext, request_: object, code: str, words: str
) -> None:
    got_code, message = error(ctx(request_))
    assert got_code == code
    assert words in message


def test_physical_commands(ctx: FakeContext) -> None:
    assert ctx({"cmd": "force", "compartment": "a03"})["ok"]  # ids are case-insensitive
    assert ctx({"cmd": "put", "compartment": "A03", "count": 2})["ok"]
    assert ctx({"cmd": "take", "compartment": "A03"})["ok"]
    assert ctx({"cmd": "close", "compartment": "A03"})["ok"]
    comp = ctx.world.compartments["A03"]
    assert (comp.items, comp.door_open, comp.forced_opens) == (1, False, 1)
    assert ctx({"cmd": "jam", "compartment": "A03"})["ok"] and comp.jammed
    assert ctx({"cmd": "unjam", "compartment": "A03"})["ok"] and not comp.jammed


def test_sensor_command(ctx: FakeContext) -> None:
    reply = ctx(
        {
            "cmd": "sensor",
            "compartment": "A02",
            "sensor": "item",
            "mode": "stuck",
            "reads": "present",
        }
    )
    assert reply["ok"]
    assert ctx.world.compartments["A02"].item_signal
    ctx({"cmd": "sensor", "compartment": "A02", "sensor": "item", "mode": "normal"})
    assert not ctx.world.compartments["A02"].item_signal


def test_user_command_changes_only_what_it_names(ctx: FakeContext) -> None:
    assert ctx({"cmd": "user", "auto_open_after": 0.3, "auto_close_after": 2})["compartments"] == 48
    assert ctx({"cmd": "user", "compartment": "A01", "auto_close_after": None})["ok"]
    assert ctx.world.compartments["A01"].user == UserBehaviour(0.3, None)
    assert ctx.world.compartments["A02"].user == UserBehaviour(0.3, 2.0)


def test_offline_online_and_power_cycle(ctx: FakeContext) -> None:
    assert ctx({"cmd": "offline", "unit": 2})["online"] is False
    slot = ctx.world.lines["bus0"].slot(2)
    assert slot is not None and not slot.online
    assert ctx({"cmd": "online", "unit": 2, "bus": "bus0"})["online"] is True
    board = ctx.world.lines["bus0"].slots[0].board
    assert isinstance(board, ReferenceBoard)
    board.on_request(encode_request(1, rb.ack_request(0)), 0.0)
    assert ctx({"cmd": "power_cycle", "unit": 1})["ok"]
    assert read_status(board, 24).flags & rb.StatusFlags.RESET


def test_fault_and_clear_faults(ctx: FakeContext) -> None:
    reply = ctx({"cmd": "fault", "unit": 1, "no_reply": 0.5, "seed": 9})
    assert reply["ok"] and reply["faults"]["no_reply"] == 0.5
    slot = ctx.world.lines["bus0"].slot(1)
    assert slot is not None and slot.faults.active
    assert ctx({"cmd": "clear_faults"})["cleared"] == 2
    assert not slot.faults.active


def test_status_lists_buses_boards_and_compartments(ctx: FakeContext) -> None:
    ctx({"cmd": "jam", "compartment": "B02"})
    status = ctx({"cmd": "status"})
    assert status["ok"]
    (bus,) = status["buses"]
    assert bus["name"] == "bus0" and bus["serial"] == "/fake/bus0"
    assert [b["unit"] for b in bus["boards"]] == [1, 2]
    rows = {row["id"]: row for row in status["compartments"]}
    assert rows["B02"]["lock"] == "jammed"
    assert rows["A01"]["lock_wire"] == {"unit": 1, "channel": 1}


def test_stats_reports_the_line(ctx: FakeContext) -> None:
    stats = ctx({"cmd": "stats"})
    bus = stats["buses"]["bus0"]
    assert bus["t35"] == pytest.approx(3.5 * 11 / 19200)
    assert bus["counters"]["frames"] == 0 and bus["transactions"] == []


def test_unplug_and_replug_every_bus_or_one(ctx: FakeContext) -> None:
    assert ctx({"cmd": "unplug"})["buses"]["bus0"]["plugged"] is False
    assert ctx({"cmd": "replug", "bus": "bus0"})["buses"]["bus0"]["plugged"] is True


def test_help_lists_every_command(ctx: FakeContext) -> None:
    commands = ctx({"cmd": "help"})["commands"]
    assert isinstance(commands, dict)
    assert {"open", "close", "put", "take", "jam", "force", "sensor", "offline", "fault",
            "status", "stats", "unplug", "replug", "run", "user"} <= set(commands)  # fmt: skip


def test_mutations_poke_the_timer_thread(ctx: FakeContext) -> None:
    ctx({"cmd": "user", "auto_open_after": 0.1})
    assert ctx.pokes == 1
