"""The core under CPython and under MicroPython, fed the same stream, must
say the same thing byte for byte (replies, unit, wait, coils, counters); and
no byte sequence gets anything out of it but an answer or silence."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocol.crc import crc_ok
from protocol.modbus.server import Ignored, decode_request
from simulator.micropython import MicroPythonHost

from .engines import Engine, in_process, under_micropython
from .streams import CHANNELS, Frame, Op, budget, frames, operations, play, starts


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, int, int, list[Op]]:
    channels = draw(st.sampled_from(CHANNELS))
    serial_format = draw(st.sampled_from([0, 1, 4, 0x0300, 0x0204]))
    return channels, serial_format, draw(starts), draw(operations(channels))


def transcript(engine: Engine, scenario: tuple[int, int, int, list[Op]]) -> list[str]:
    channels, serial_format, start, ops = scenario
    with engine:
        board = engine.board(channels, serial_format=serial_format, now=start)
        play(board, ops, start)
        info = board.info()
        assert info["faults"] == 0, info
    return engine.answers


@budget(1000)
@given(scenarios())
def test_both_interpreters_give_the_same_transcript(
    micropython: MicroPythonHost, scenario: tuple[int, int, int, list[Op]]
) -> None:
    expected = transcript(in_process(), scenario)
    assert transcript(under_micropython(micropython), scenario) == expected


@budget(600)
@given(st.lists(frames, min_size=1, max_size=30), st.sampled_from([1, 2, 247]))
def test_no_byte_sequence_raises_and_only_whole_frames_for_us_are_answered(
    micropython: MicroPythonHost, stream: list[Frame], unit: int
) -> None:
    for engine in (in_process(), under_micropython(micropython)):
        with engine:
            board = engine.board(unit=unit)  # every answer must start with `ok`
            now = 0
            for frame in stream:
                now += 5_000
                mine = board.unit
                reply = board.deliver(frame.data, now)
                if reply is not None:
                    assert crc_ok(frame.data) and frame.data[0] == mine, (frame, reply)
                    # whole by the host's own decoder too (protocol/modbus/server.py), for
                    # the functions we serve; any other gets 01 whatever its length
                    # (Application Protocol 7: the function code is checked first)
                    if frame.data[1] in (3, 4, 6, 16):
                        assert not isinstance(decode_request(frame.data), Ignored), frame
                    assert reply[0] == mine and crc_ok(reply)
            assert board.info()["faults"] == 0
