"""What a UART reads of bytes sent in another serial format (simulator/uart.py)."""

from __future__ import annotations

import pytest

from protocol import reference_board as rb
from protocol.modbus import encode_request
from protocol.timing import SerialFormat
from simulator.uart import receive, same_line

REQUEST = encode_request(1, rb.identity_request())  # 01 04 00 00 00 08 F1 CC
LINE = SerialFormat(19200, "E", 1)


def test_the_same_format_reads_what_was_sent() -> None:
    heard = receive(REQUEST, LINE, LINE)
    assert heard.data == REQUEST and heard.errors == 0


@pytest.mark.parametrize("frame", ["8E1", "8O1", "8N1", "8N2"])
def test_a_bit_level_round_trip_in_each_frame(frame: str) -> None:
    # forced through the bit model: 2 stop bits sent to a 1-stop receiver are idle line
    fmt = SerialFormat.parse(19200, frame)
    one_stop = SerialFormat(19200, fmt.parity, 1)
    assert same_line(fmt, one_stop)
    assert receive(REQUEST, fmt, one_stop).data == REQUEST


def test_a_faster_master_is_a_few_bytes_of_garbage() -> None:
    heard = receive(REQUEST, SerialFormat(115200, "E", 1), LINE)
    assert heard.data != REQUEST and len(heard.data) < len(REQUEST) // 2
    assert heard.framing_errors + heard.parity_errors >= 1


def test_a_slower_master_is_more_bytes_of_garbage_with_framing_errors() -> None:
    heard = receive(REQUEST, SerialFormat(9600, "E", 1), LINE)
    assert len(heard.data) > len(REQUEST)
    assert heard.framing_errors >= len(REQUEST) // 2


def test_odd_parity_against_even_is_a_parity_error_on_every_byte() -> None:
    heard = receive(REQUEST, SerialFormat(19200, "O", 1), LINE)
    assert heard.data == REQUEST  # the data bits are right
    assert heard.parity_errors == len(REQUEST) and heard.framing_errors == 0


def test_no_parity_against_even_parity_misframes_back_to_back_bytes() -> None:
    heard = receive(REQUEST, SerialFormat(19200, "N", 1), LINE)
    assert heard.data != REQUEST and heard.framing_errors > 0


def test_one_stop_bit_sent_to_a_two_stop_receiver_is_read_as_sent() -> None:
    # UARTs check only the first stop bit
    heard = receive(REQUEST, SerialFormat(19200, "N", 1), SerialFormat(19200, "N", 2))
    assert heard.data == REQUEST and heard.errors == 0
