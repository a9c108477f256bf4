"""The CU48 0x60 firmware variant against real captures.

Golden vectors typed from AshurkovAV/KerongConsole, file
`KerongConsole/Коды для контролера запрос ответ.txt` (commit d01d2728): the
requests the author sent to a board and the replies it gave, with the
author's notes ("закрыт замок" = lock closed). Every check byte below is
the capture's own; the first test recomputes them.
"""

from __future__ import annotations

import pytest

from protocol import BusFault
from protocol.kerong import checksum, cu48, read_frame


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# (reply as captured, the cells the author's note or the bits say are closed, D7..D12)
REPLIES = [
    ("02 00 00 75 00 00 00 00 00 00 00 00 00 00 00 00 03 7a", (), "00 00 00 00 00 00"),
    ("02 00 00 75 10 00 00 00 00 00 00 00 00 00 00 00 03 8a", (5,), "00 00 00 00 00 00"),
    ("02 00 00 75 01 00 00 00 00 00 01 00 00 00 00 00 03 7c", (1,), "01 00 00 00 00 00"),
    ("02 00 00 75 00 00 00 00 00 00 01 00 00 00 00 00 03 7b", (), "01 00 00 00 00 00"),
    ("02 00 00 75 01 00 00 00 00 00 00 00 00 00 00 00 03 7b", (1,), "00 00 00 00 00 00"),
    ("02 00 00 75 02 00 00 00 00 00 00 00 00 00 00 00 03 7c", (2,), "00 00 00 00 00 00"),
    ("02 00 00 75 04 00 00 00 00 00 00 00 00 00 00 00 03 7e", (3,), "00 00 00 00 00 00"),
    ("02 00 00 75 08 00 00 00 00 00 00 00 00 00 00 00 03 82", (4,), "00 00 00 00 00 00"),
    ("02 00 00 75 00 20 00 00 00 00 00 00 00 00 00 00 03 9a", (14,), "00 00 00 00 00 00"),
]

# (request as captured, the cell the author opened with it)
UNLOCKS = [
    ("02 00 00 61 03 66", 1),
    ("02 00 01 61 03 67", 2),
    ("02 00 02 61 03 68", 3),
    ("02 00 03 61 03 69", 4),
    ("02 00 04 61 03 6a", 5),
]


@pytest.mark.parametrize(("wire", "closed", "reserved"), REPLIES)
def test_captured_status_replies_read_as_the_author_noted(
    wire: str, closed: tuple[int, ...], reserved: str
) -> None:
    frame = h(wire)
    assert len(frame) == cu48.ALT_STATUS_LENGTH == 18
    assert checksum(frame[:-1]) == frame[-1]  # the capture's own check byte verifies
    status = read_frame(cu48.status_reader(0, cu48.Variant.ALT_60), frame)
    assert isinstance(status, cu48.Status), status
    assert status.board == 0
    assert tuple(n for n, locked in enumerate(status.hooks, 1) if locked) == closed
    assert status.reserved == h(reserved)  # D7..D12: kept, meaning unknown
    assert cu48.encode_status(status, cu48.Variant.ALT_60) == frame


def test_the_captured_status_request() -> None:
    assert cu48.status_request(0, cu48.Variant.ALT_60) == h("02 00 00 60 03 65")


@pytest.mark.parametrize(("wire", "cell"), UNLOCKS)
def test_captured_unlock_requests(wire: str, cell: int) -> None:
    assert cu48.unlock_request(0, cell, cu48.Variant.ALT_60) == h(wire)


def test_the_captured_0x77_frame_is_not_a_status_reply() -> None:
    # Captured once, with no request beside it and no note: not what 0x60 gets.
    frame = h("02 00 0a 77 01 00 00 00 00 00 01 00 00 00 00 00 03 88")
    assert checksum(frame[:-1]) == frame[-1]
    outcome = read_frame(cu48.status_reader(0, cu48.Variant.ALT_60), frame)
    assert isinstance(outcome, BusFault)
