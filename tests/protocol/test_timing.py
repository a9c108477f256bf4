"""Character timing against the figures of Modbus over Serial Line V1.02, 2.5.1.1."""

import pytest

from protocol.timing import SerialFormat


@pytest.mark.parametrize(
    ("baud", "frame", "char_ms", "t15_ms", "t35_ms"),
    [
        (9600, "8E1", 1.146, 1.719, 4.010),
        (9600, "8N1", 1.042, 1.562, 3.646),
        (19200, "8E1", 0.573, 0.859, 2.005),
        (19200, "8N2", 0.573, 0.859, 2.005),
        (38400, "8E1", 0.286, 0.750, 1.750),  # fixed timers above 19200 bps
        (115200, "8N1", 0.087, 0.750, 1.750),
    ],
)
def test_spec_timers(baud, frame, char_ms, t15_ms, t35_ms) -> None:
    fmt = SerialFormat.parse(baud, frame)
    assert fmt.char_time * 1000 == pytest.approx(char_ms, abs=0.001)
    assert fmt.t15 * 1000 == pytest.approx(t15_ms, abs=0.001)
    assert fmt.t35 * 1000 == pytest.approx(t35_ms, abs=0.001)


def test_transaction_time_of_a_96_bit_read() -> None:
    # modbus-timing figures: FC02 of 96 inputs, 8 + 17 bytes, 8E1 at 9600 is
    # 36.7 ms on the wire with both t3.5 gaps.
    fmt = SerialFormat(9600, "E", 1)
    assert fmt.transaction_time(8, 17, 0.0) * 1000 == pytest.approx(36.7, abs=0.05)


@pytest.mark.parametrize("bad", ["8X1", "8E3", "9E1", "", "8E"])
def test_bad_formats_are_named(bad) -> None:
    with pytest.raises(ValueError, match="8E1"):
        SerialFormat.parse(19200, bad)
