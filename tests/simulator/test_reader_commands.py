"""The card reader's control commands, its pty, its layout section and `locker-sim swipe`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import serial

from protocol import idcard
from simulator.cli import main
from simulator.commands import dispatch
from simulator.layout import LayoutError, ReaderSpec, parse_layout, simple_layout
from simulator.runtime import Simulator

from .conftest import SimFactory
from .fake_context import FakeContext
from .test_cli import Served

RESIDENT = "11010519491231002X"


def exchange(port: serial.Serial, command: idcard.Command) -> object:
    port.reset_input_buffer()
    port.write(idcard.encode_command(command))
    reader = idcard.ReplyReader(command)
    for _ in range(100):
        outcome = reader.feed(port.read(port.in_waiting or 1))
        if outcome is not None:
            return outcome
    return reader.give_up()


def reader_port(sim: Simulator) -> serial.Serial:
    assert sim.card_reader is not None
    return serial.Serial(str(sim.card_reader.pty.link), 115200, timeout=0.02)


def test_swipe_and_read_over_the_readers_own_pty(make_sim: SimFactory) -> None:
    sim = make_sim()
    assert sim.card_reader is not None
    link = sim.card_reader.pty.link
    assert link.name == "ttyIDCARD0" and os.readlink(link).startswith("/dev/pts/")
    reply = dispatch(sim, {"cmd": "swipe", "id_number": RESIDENT.lower(), "hold": 0})
    assert reply == {"ok": True, "card": "resident", "hold": None}
    with reader_port(sim) as port:
        assert exchange(port, idcard.FindCard()) == idcard.CardFound(bytes(4))
        assert isinstance(exchange(port, idcard.SelectCard()), idcard.CardSelected)
        read = exchange(port, idcard.ReadCard())
        assert isinstance(read, idcard.CardRead) and read.card.id_number == RESIDENT
        assert dispatch(sim, {"cmd": "remove_card"}) == {"ok": True, "removed": True}
        assert exchange(port, idcard.FindCard()) == idcard.StatusReply(idcard.StatusCode.NO_CARD)
    info = dispatch(sim, {"cmd": "reader"})["reader"]
    assert info["card"] is None and info["counters"]["reads"] == 1  # type: ignore[index]
    assert RESIDENT not in repr(info)


def test_a_swipe_lasts_its_hold_time(make_sim: SimFactory) -> None:
    sim = make_sim()
    assert dispatch(sim, {"cmd": "swipe", "id_number": RESIDENT, "hold": 0.2})["ok"]
    assert sim.card_reader is not None
    assert sim.card_reader.model.next_deadline() is not None
    with reader_port(sim) as port:
        assert isinstance(exchange(port, idcard.FindCard()), idcard.CardFound)
        for _ in range(50):  # bounded: until the hold has run out (0.2 s)
            if exchange(port, idcard.FindCard()) == idcard.StatusReply(idcard.StatusCode.NO_CARD):
                break
        else:
            pytest.fail("the card never left")


def test_the_default_hold_is_three_seconds(make_sim: SimFactory) -> None:
    sim = make_sim()
    before = sim.now()
    assert dispatch(sim, {"cmd": "swipe", "id_number": RESIDENT})["hold"] == 3.0
    assert sim.card_reader is not None
    deadline = sim.card_reader.model.next_deadline()
    assert deadline is not None and before + 3.0 <= deadline <= sim.now() + 3.0


def test_reader_faults_and_the_cable(make_sim: SimFactory) -> None:
    sim = make_sim()
    assert dispatch(sim, {"cmd": "reader_fault", "fault": "no_sam"})["fault"] == "no_sam"
    with reader_port(sim) as port:
        assert exchange(port, idcard.CheckSam()) == idcard.StatusReply(
            idcard.StatusCode.SELF_TEST_FAILED
        )
    assert dispatch(sim, {"cmd": "reader_fault", "fault": "none"})["ok"]
    assert sim.card_reader is not None
    link = sim.card_reader.pty.link
    assert dispatch(sim, {"cmd": "reader_unplug"})["reader"]["plugged"] is False  # type: ignore[index]
    assert not link.exists()
    assert dispatch(sim, {"cmd": "reader_replug"})["reader"]["plugged"] is True  # type: ignore[index]
    with reader_port(sim) as port:
        assert exchange(port, idcard.CheckSam()) == idcard.StatusReply(idcard.StatusCode.SUCCESS)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"id_number": "1101051949"}, "id_number: an ID number is 17 digits"),
        ({"id_number": RESIDENT, "type": "foreign2017"}, "id_number: a 2017 foreign card"),
        ({"id_number": RESIDENT, "type": "passport"}, "type: 'passport' is not one of"),
        ({"id_number": RESIDENT, "name": "名" * 16}, "name: name: 16 characters"),
        ({"id_number": RESIDENT, "hold": -1}, "hold: -1 is outside"),
        ({}, "id_number: missing"),
    ],
)
def test_bad_swipes_name_the_argument_and_not_the_number(
    make_sim: SimFactory, request_: dict[str, object], message: str
) -> None:
    sim = make_sim()
    reply = dispatch(sim, {"cmd": "swipe", **request_})
    assert reply["ok"] is False
    error = reply["error"]
    assert isinstance(error, dict) and error["code"] == "bad_argument"
    assert message in error["message"] and RESIDENT not in error["message"]


def test_a_simulator_without_a_reader_says_so(make_sim: SimFactory) -> None:
    layout = simple_layout()
    ctx = FakeContext(layout)  # no card_reader at all
    assert ctx({"cmd": "remove_card"})["error"]["code"] == "no_reader"
    sim = make_sim(replace(layout, reader=None))
    assert sim.card_reader is None
    assert dispatch(sim, {"cmd": "swipe", "id_number": RESIDENT})["error"] == {
        "code": "no_reader",
        "message": "this simulator serves no card reader",
    }


def test_swipe_is_a_scenario_step(make_sim: SimFactory) -> None:
    sim = make_sim()
    steps = (
        f'[[steps]]\nat = 0\ncmd = "swipe"\nid_number = "{RESIDENT}"\nhold = 0\n'
        '[[steps]]\nat = 0.05\ncmd = "remove_card"\n'
    )
    result = sim.run_steps(steps)
    assert result["failed"] == 0


def test_the_layouts_reader_section() -> None:
    base = {"buses": [{"boards": [{"unit": 1}]}]}
    assert parse_layout(base).reader == ReaderSpec()
    assert parse_layout({**base, "reader": {"enabled": False}}).reader is None
    linked = parse_layout({**base, "reader": {"link": "/tmp/x/ttyID"}}).reader
    assert linked == ReaderSpec(Path("/tmp/x/ttyID"))
    for bad, key in (({"colour": 1}, "reader.colour"), ({"enabled": "no"}, "reader.enabled"),
                     ({"link": ""}, "reader.link")):  # fmt: skip
        with pytest.raises(LayoutError) as info:
            parse_layout({**base, "reader": bad})
        assert info.value.key == key


# -- the CLI ---------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], run_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--run-dir", str(run_dir)])
    out, err = capsys.readouterr()
    return code, out, err


def test_serve_prints_the_reader_after_the_first_two_lines_and_swipe_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served = Served(["--boards", "1", "--channels", "8"], tmp_path / "run")
    try:
        lines = [served.line() for _ in range(5)]
        assert lines[0].startswith("serial: ") and lines[1].startswith("control: ")
        assert lines[2].startswith("engine: cpython ")
        assert lines[3].startswith("bus bus0: ")
        match = re.fullmatch(r"reader: (\S+)", lines[4])
        assert match, lines
        link = Path(match.group(1))
        assert link == served.run_dir / "ttyIDCARD0" and link.is_symlink()
        run = served.run_dir
        code, out, _ = cli(capsys, run, "swipe", RESIDENT, "--hold", "0", "--type", "resident")
        assert code == 0 and '"card": "resident"' in out and RESIDENT not in out
        code, out, _ = cli(capsys, run, "reader")
        assert code == 0 and '"card": "resident"' in out
        assert cli(capsys, run, "remove-card")[0] == 0
        assert cli(capsys, run, "reader-fault", "read_failure")[0] == 0
        assert cli(capsys, run, "reader-unplug")[0] == 0 and not link.exists()
        assert cli(capsys, run, "reader-replug")[0] == 0 and link.is_symlink()
        code, _, err = cli(capsys, run, "swipe", "12345")
        assert code == 1 and "bad_argument: id_number:" in err
    finally:
        assert served.stop() == 0
    assert not link.exists()


def test_swipe_help_says_the_check_digit_is_not_validated() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "swipe", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    text = " ".join(done.stdout.split())
    assert "18 characters" in text and "NOT validated" in text
    assert "--hold SECONDS" in text and "foreign2023" in text
