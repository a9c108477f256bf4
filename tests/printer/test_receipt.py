"""The ESC/POS receipt: its bytes, and writing them to a file and to a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import tty
from datetime import datetime
from pathlib import Path

import pytest

from locker_host.printer import PrinterUnavailable, Receipt, ReceiptPrinter, encode_receipt

RECEIPT = Receipt(
    "R000042", "B03", "市场监督管理局", "huanghua-hall", "L01", datetime(2026, 1, 2, 9, 5)
)


def test_the_receipt_is_esc_pos_with_the_number_in_chinese_mode() -> None:
    data = encode_receipt(RECEIPT)
    assert data.startswith(b"\x1b@\x1c&"), "initialise, then Chinese (GB 18030) mode"
    assert data.endswith(b"\x1dV\x42\x00"), "feed and partial cut last"
    number = data.index(b"\x1d!\x11R000042\n\x1d!\x00")  # double size, then back to normal
    assert number > 0
    text = data.decode("gb18030")
    for expected in ("材料投递回执", "B03", "市场监督管理局", "2026-01-02 09:05", "L01"):
        assert expected in text


def test_a_plain_file_receives_every_receipt(tmp_path: Path) -> None:
    path = tmp_path / "lp0"
    printer = ReceiptPrinter(path)
    assert printer.print(RECEIPT) == len(encode_receipt(RECEIPT))
    printer.print(RECEIPT)
    assert path.read_bytes() == encode_receipt(RECEIPT) * 2


def test_a_pseudo_terminal_printer_gets_the_exact_bytes() -> None:
    master, slave = pty.openpty()
    try:
        tty.setraw(slave)  # a printer's serial line: no newline translation
        written = ReceiptPrinter(Path(os.ttyname(slave))).print(RECEIPT)
        received = b""
        while len(received) < written:
            received += os.read(master, 4096)
        assert received == encode_receipt(RECEIPT)
    finally:
        os.close(master)
        os.close(slave)


def test_a_missing_printer_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(PrinterUnavailable) as caught:
        ReceiptPrinter(tmp_path / "absent" / "lp0").print(RECEIPT)
    assert caught.value.code == "printer_unavailable"
