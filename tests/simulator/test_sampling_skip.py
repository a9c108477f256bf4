"""Hypothesis: the reference board's sampler, which re-reads only the
channels whose compartment changed since their last sample, reports exactly
what a board that re-reads every channel at every sample reports (the
simulator's behaviour before the skip), whatever happens at the doors, the
locks, the sensors and the polarity, and whenever the host asks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import reference_board as rb
from protocol.modbus import ReadInputRegisters, WriteSingleRegister, encode_request
from simulator.boards import ReferenceBoard
from simulator.physics import Compartment, PhysicsRefused, SensorFault, SensorMode, Size

from .helpers import ask

CHANNELS = 3


class EveryChannel(ReferenceBoard):
    """The plain sampler: every channel, every time."""

    def _sample(self) -> None:
        for ch in self._ch:
            self._sample_channel(ch)


PERSON = ["open", "force", "close", "put", "take", "jam", "unjam", "stick", "invert", "heal"]
HOST = ["unlock", "poll", "ack", "polarity", "all_off"]

steps = st.lists(
    st.tuples(
        st.sampled_from(PERSON + HOST + ["tick"]),
        st.integers(1, CHANNELS),
        st.integers(0, 7),  # polarity bits
        st.sampled_from([0.001, 0.05, 0.13, 0.6]),  # time passing before the step
    ),
    max_size=50,
)


def world(board_type: type[ReferenceBoard]) -> tuple[ReferenceBoard, list[Compartment]]:
    comps = [Compartment(f"A{i}", Size.S) for i in range(1, CHANNELS + 1)]
    # channel 3 has nothing wired: its inputs read 0 under any polarity
    return board_type(1, [comps[0], comps[1], None], now=0.0), comps


def act(
    board: ReferenceBoard, comp: Compartment, step: tuple[str, int, int, float], now: float
) -> bytes | None:
    action, channel, polarity, _ = step
    try:
        match action:
            case "open":
                comp.open_door(now)
            case "force":
                comp.force_door(now)
            case "close":
                comp.close_door(now)
            case "put":
                comp.put_item(now)
            case "take":
                comp.take_item(now)
            case "jam":
                comp.jam(now)
            case "unjam":
                comp.unjam(now)
            case "stick":
                comp.set_sensor("door", SensorFault(SensorMode.STUCK, stuck_reading=True))
            case "invert":
                comp.set_sensor("item", SensorFault(SensorMode.INVERTED))
            case "heal":
                comp.set_sensor("door", SensorFault())
                comp.set_sensor("item", SensorFault())
            case "unlock":
                request = rb.unlock_request(channel, CHANNELS, pulse_ms=100)
                return board.on_request(_frame(request), now)
            case "poll":
                return board.on_request(_frame(rb.status_request(CHANNELS)), now)
            case "ack":
                return board.on_request(_frame(rb.ack_request(board.change_counter)), now)
            case "polarity":
                request = WriteSingleRegister(rb.HR_POLARITY, polarity)
                return board.on_request(_frame(request), now)
            case "all_off":
                return board.on_request(_frame(rb.all_outputs_off_request()), now)
            case "tick":
                board.tick(now)
    except PhysicsRefused:
        pass  # a person could not do that: nothing happened
    return None


def _frame(request: ReadInputRegisters | WriteSingleRegister) -> bytes:
    return encode_request(1, request)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_skipping_unchanged_channels_changes_nothing(
    run: list[tuple[str, int, int, float]],
) -> None:
    fast, fast_comps = world(ReferenceBoard)
    plain, plain_comps = world(EveryChannel)
    now = 0.0
    for step in run:
        now += step[3]
        # the person acts on a wired compartment (channel 3 has none)
        index = (step[1] - 1) % 2
        got = act(fast, fast_comps[index], step, now)
        want = act(plain, plain_comps[index], step, now)
        assert got == want, step
        assert fast.status() == plain.status(), step
    now += 1.0
    assert ask(fast, rb.status_request(CHANNELS), now=now) == ask(
        plain, rb.status_request(CHANNELS), now=now
    )
