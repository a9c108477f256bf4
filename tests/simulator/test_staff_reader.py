"""The simulated staff-card reader: the bytes it types, its layout table, its command and CLI."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from locker_host.readers.hid import KeyDecoder
from protocol.errors import UsageError
from protocol.keyboard import INPUT_EVENT, input_events, keystrokes
from simulator.cli import main
from simulator.commands import dispatch
from simulator.layout import LayoutError, StaffReaderSpec, parse_layout
from simulator.staff_reader import StaffReaderKind, card_bytes

from .conftest import SimFactory
from .test_cli import Served

CARD = "0012345678"


def typed(data: bytes) -> bytes:
    """What lockerd's keyboard reader makes of the records (locker_host/readers/hid.py)."""
    decoder = KeyDecoder()
    return b"".join(decoder.feed(*event) for event in input_events(data))


def test_the_keyboard_kind_types_the_number_and_enter_as_key_strokes() -> None:
    data = card_bytes(StaffReaderKind.KEYBOARD, CARD, 1_700_000_000.25)
    assert len(data) % INPUT_EVENT.size == 0
    assert typed(data) == CARD.encode() + b"\n"
    # press, report, release, report per key; the clock in every record
    assert len(data) == (len(CARD) + 1) * 4 * INPUT_EVENT.size
    assert {
        INPUT_EVENT.unpack_from(data, i)[:2] for i in range(0, len(data), INPUT_EVENT.size)
    } == {(1_700_000_000, 250_000)}
    assert typed(keystrokes("ab12CD")) == b"ab12CD\n"  # capitals inside Shift


def test_the_serial_kind_sends_a_line() -> None:
    assert card_bytes(StaffReaderKind.SERIAL, CARD, 0.0) == CARD.encode() + b"\r\n"


@pytest.mark.parametrize("number", ["", "12 34", "12\n34", "１２３", "x" * 65, "12-34"])
def test_a_number_no_reader_types_is_refused(number: str) -> None:
    for kind in StaffReaderKind:
        with pytest.raises(UsageError):
            card_bytes(kind, number, 0.0)


def test_the_layout_table() -> None:
    base = {"buses": [{"boards": [{"unit": 1}]}]}
    assert parse_layout(base).staff_reader == StaffReaderSpec(StaffReaderKind.KEYBOARD)
    assert parse_layout({**base, "staff_reader": {"enabled": False}}).staff_reader is None
    spec = parse_layout({**base, "staff_reader": {"kind": "serial", "link": "/tmp/x/ttyS"}})
    assert spec.staff_reader == StaffReaderSpec(StaffReaderKind.SERIAL, Path("/tmp/x/ttyS"))
    bad_tables = [
        ({"kind": "nfc"}, "staff_reader.kind"),
        ({"colour": 1}, "staff_reader.colour"),
        ({"enabled": 1}, "staff_reader.enabled"),
        ({"link": ""}, "staff_reader.link"),
    ]
    for bad, key in bad_tables:
        with pytest.raises(LayoutError) as info:
            parse_layout({**base, "staff_reader": bad})
        assert info.value.key == key


def test_the_staff_card_command_types_into_the_pty(make_sim: SimFactory) -> None:
    sim = make_sim()
    front = sim.staff_reader
    assert front is not None and front.kind is StaffReaderKind.KEYBOARD
    assert front.pty.link.name == "inputSTAFF0" and front.pty.link.is_symlink()
    fd = os.open(front.pty.link, os.O_RDONLY | os.O_NONBLOCK)
    try:
        reply = dispatch(sim, {"cmd": "staff_card", "number": CARD})
        assert reply == {"ok": True, "staff_reader": "keyboard", "cards": 1}
        assert typed(os.read(fd, 4096)) == CARD.encode() + b"\n"
        refused = dispatch(sim, {"cmd": "staff_card", "number": "12 34"})
        assert not refused["ok"] and refused["error"]["code"] == "bad_argument"
        assert dispatch(sim, {"cmd": "staff_reader"})["staff_reader"]["cards"] == 1
    finally:
        os.close(fd)


def test_serve_prints_the_staff_reader_and_the_cli_types_a_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served = Served(["--boards", "1", "--channels", "8"], tmp_path / "run")
    try:
        lines = [served.line() for _ in range(6)]
        match = re.fullmatch(r"staff reader: (\S+) \(keyboard\)", lines[5])
        assert match, lines
        link = Path(match.group(1))
        assert link == served.run_dir / "inputSTAFF0" and link.is_symlink()
        code = main(["staff-card", CARD, "--run-dir", str(served.run_dir)])
        out, _ = capsys.readouterr()
        assert code == 0 and '"cards": 1' in out and CARD not in out
        code = main(["staff-card", "12 34", "--run-dir", str(served.run_dir)])
        _, err = capsys.readouterr()
        assert code == 1 and "bad_argument: number:" in err
    finally:
        assert served.stop() == 0
