"""Golden vectors answered by the firmware core under CPython and under
MicroPython: both must give exactly the bytes written here.

The requests are the protocol tests' vectors (tests/protocol/test_golden.py,
the reference-board requests of tests/protocol/test_reference_board.py) and
the example exchange of docs/reference-board.md. The replies are typed in
from the register map; their CRCs were computed with protocol/crc.py, whose
own vectors come from the Modbus specification, and are checked here again.
"""

from __future__ import annotations

import pytest

from protocol.crc import crc_ok
from simulator.micropython import MicroPythonHost

from .engines import ALL_CLOSED_24, Engine, in_process, under_micropython

NO_REPLY = None

# (unit of the board, request, reply): each on a fresh 24-channel board
SINGLE = [
    # Application Protocol 6.3's read of registers 108-110: outside the holding block
    (0x11, "11 03 00 6B 00 03 76 87", "11 83 02 C1 34"),
    (1, "01 03 00 00 00 0A C5 CD", "01 83 02 C0 F1"),  # 10 registers: past the block
    (1, "01 04 00 00 00 01 31 CA", "01 04 02 4C 4B CD C7"),  # magic "LK"
    (1, "01 05 00 00 FF 00 8C 3A", "01 85 01 83 50"),  # coils are not ours: 01
    (1, "01 05 00 00 00 00 CD CA", "01 85 01 83 50"),
    (0x11, "11 06 00 01 00 03 9A 9B", "11 06 00 01 00 03 9A 9B"),  # polarity 3: echo
    (1, "01 01 00 00 00 08 3D CC", "01 81 01 81 90"),
    (1, "01 02 00 00 00 08 79 CC", "01 82 01 81 60"),
    # a frame for another unit, and one with its CRC spoilt: silence (Serial Line 2.4.1)
    (2, "01 04 00 00 00 01 31 CA", NO_REPLY),
    (1, "01 04 00 00 00 01 31 CB", NO_REPLY),
]

# docs/reference-board.md, "Example exchange (unit 1, 24 channels)", on a board
# powered up with every door closed; one more poll while the pulse runs
EXCHANGE = [
    (
        "01 04 00 00 00 08 F1 CC",  # identity: 21 bytes
        "01 04 10 4C 4B 00 01 00 18 01 00 53 01 51 00 00 01 00 07 0F 60",
    ),
    (
        "01 04 00 10 00 0A 71 C8",  # poll: 25 bytes, flags = reset, counter 0
        "01 04 14 00 01 00 00 FF FF 00 FF 00 00 00 00 00 00 00 00 00 00 00 00 42 73",
    ),
    ("01 06 01 06 01 F4 68 20", "01 06 01 06 01 F4 68 20"),  # unlock ch 7, 500 ms: echo
    (
        "01 04 00 10 00 0A 71 C8",  # flags = reset | pulse active
        "01 04 14 00 03 00 00 FF FF 00 FF 00 00 00 00 00 00 00 00 00 00 00 00 3B CB",
    ),
    ("01 06 00 02 00 12 A8 07", "01 06 00 02 00 12 A8 07"),  # ack 0x0012: echo
]


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else bytes.fromhex(text)


def _both(micropython: MicroPythonHost) -> list[Engine]:
    return [in_process(), under_micropython(micropython)]


@pytest.mark.parametrize(("unit", "request_", "reply"), SINGLE)
def test_a_vector_gets_its_reply_under_both_interpreters(
    micropython: MicroPythonHost, unit: int, request_: str, reply: str | None
) -> None:
    answers = []
    for engine in _both(micropython):
        with engine:
            board = engine.board(unit=unit)
            answers.append(board.deliver(bytes.fromhex(request_), 10_000))
    assert answers == [_bytes(reply)] * 2


def test_the_documented_example_exchange(micropython: MicroPythonHost) -> None:
    transcripts = []
    for engine in _both(micropython):
        with engine:
            board = engine.board()
            board.set_inputs(ALL_CLOSED_24, [0, 0], [0, 0], 0)
            board.power_up(1_000)  # what power-up finds is the start: counter 0
            now = 10_000
            replies = []
            for request_, _ in EXCHANGE:
                replies.append(board.deliver(bytes.fromhex(request_), now))
                now += 10_000
            transcripts.append(replies)
    assert transcripts == [[_bytes(reply) for _, reply in EXCHANGE]] * 2


def test_the_typed_replies_carry_valid_crcs() -> None:
    typed = [r for _, _, r in SINGLE if r] + [r for _, r in EXCHANGE]
    for reply in typed:
        assert crc_ok(bytes.fromhex(reply)), reply
