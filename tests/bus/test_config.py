"""Configuration errors name the field; timeouts and gaps follow the format."""

from __future__ import annotations

from typing import Any

import pytest

from locker_host.bus import (
    BusConfig,
    BusConfigError,
    InputRef,
    KerongBoardConfig,
    ReferenceBoardConfig,
    RelayBoardConfig,
    RelayChannelConfig,
)
from locker_host.bus.drivers import Exchange
from locker_host.bus.timing import PROMPT_REPLY_ALLOWANCE, inter_frame_gap, response_timeout
from protocol import reference_board as rb
from protocol.families import KERONG_CU16
from protocol.timing import SerialFormat

REF = ReferenceBoardConfig(1, 24)


def bus(*boards: Any, **options: Any) -> BusConfig:
    options = {"name": "bus0", "port": "/dev/ttyUSB0", **options}
    return BusConfig(boards=tuple(boards) or (REF,), **options)


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (lambda: bus(name="bus 0"), "name", "letters"),
        (lambda: bus(port=""), "port", "empty"),
        (lambda: BusConfig("b", "/dev/x", ()), "boards", "at least one"),
        (lambda: bus(ReferenceBoardConfig(0, 24)), "boards[0].unit", "outside 1..247"),
        (lambda: bus(REF, ReferenceBoardConfig(2, 49)), "boards[1].channels", "1..48"),
        (lambda: bus(REF, ReferenceBoardConfig(1, 8)), "boards[1].unit", "already boards[0]"),
        (lambda: bus(ReferenceBoardConfig(1, 8, pulse_ms=20)), "boards[0].pulse_ms", "50..10000"),
        (
            lambda: bus(ReferenceBoardConfig(1, 8, poll_interval=-1)),
            "boards[0].poll_interval",
            "> 0",
        ),
        (
            lambda: bus(RelayBoardConfig(3, ())),
            "boards[0].channels",
            "0 relays",
        ),
        (
            lambda: bus(RelayBoardConfig(3, (RelayChannelConfig(door=InputRef(4, 33)),))),
            "boards[0].channels[0].door.input",
            "1..32",
        ),
        (
            lambda: bus(
                REF,
                RelayBoardConfig(
                    3, (RelayChannelConfig(), RelayChannelConfig(item=InputRef(1, 2)))
                ),
            ),
            "boards[1].channels[1].item.unit",
            "reference board",
        ),
        (lambda: bus(RelayBoardConfig.self_wired(3, 4, pulse_ms=50)), "boards[0].pulse_ms", "100"),
        (lambda: bus(read_retries=2), "read_retries", "0 or 1"),
        (lambda: bus(failures_until_offline=0), "failures_until_offline", "at least 1"),
        (lambda: bus(poll_interval=float("nan")), "poll_interval", ">= 0"),
        (lambda: bus(min_gap=-0.001), "min_gap", ">= 0"),
        (lambda: bus(probe_backoff_initial=0), "probe_backoff_initial", "> 0"),
        (lambda: bus(probe_backoff_max=0.5), "probe_backoff_max", "below"),
        (lambda: bus(reopen_backoff_max=0.1), "reopen_backoff_max", "below"),
    ],
)
def test_errors_name_the_field(make: Any, field: str, words: str) -> None:
    with pytest.raises(BusConfigError) as caught:
        make()
    assert caught.value.field == field
    assert words in caught.value.problem
    assert str(caught.value).startswith(field + ": ")


def test_self_wired_relays_read_their_own_inputs() -> None:
    config = RelayBoardConfig.self_wired(3, 4)
    assert [c.door for c in config.channels] == [InputRef(3, n) for n in range(1, 5)]
    assert config.input_units() == {3: 4}


def test_input_units_read_up_to_the_highest_input_used() -> None:
    config = RelayBoardConfig(
        3,
        (
            RelayChannelConfig(door=InputRef(4, 1), item=InputRef(4, 7)),
            RelayChannelConfig(door=InputRef(5, 2)),
            RelayChannelConfig(),
        ),
    )
    assert config.input_units() == {4: 7, 5: 2}


def test_gap_is_t35_unless_the_boards_need_more() -> None:
    slow = SerialFormat(9600, "E", 1)
    fast = SerialFormat(115200, "E", 1)
    assert inter_frame_gap(slow, 0.0) == pytest.approx(3.5 * 11 / 9600)
    assert inter_frame_gap(fast, 0.0) == 0.00175  # fixed above 19200 bps (V1.02 2.5.1.1)
    assert inter_frame_gap(fast, 0.010) == 0.010


@pytest.mark.parametrize(("baud", "low", "high"), [(9600, 0.080, 0.110), (115200, 0.045, 0.060)])
def test_default_timeouts_are_short(baud: int, low: float, high: float) -> None:
    config = bus(format=SerialFormat(baud, "E", 1))
    status = Exchange(1, rb.status_request(48))
    timeout = response_timeout(
        config.format,
        status.request_bytes,
        status.reply_bytes,
        slave_allowance=config.reply_allowance,
        adapter_allowance=config.adapter_allowance,
    )
    assert low <= timeout <= high


def test_kerong_buses_allow_a_slow_board_unless_told_otherwise() -> None:
    kerong = KerongBoardConfig("kerong_cu16", 0)
    assert bus(kerong).reply_allowance == KERONG_CU16.reply_allowance == 1.0
    assert bus(kerong, slave_allowance=0.2).reply_allowance == 0.2
    assert bus().reply_allowance == PROMPT_REPLY_ALLOWANCE
