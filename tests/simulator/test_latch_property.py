"""Hypothesis: whatever happens at the doors and whenever the host polls and
acknowledges, no door opening is ever lost by the reference board."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from protocol import reference_board as rb
from simulator.boards import ReferenceBoard
from simulator.physics import Compartment, PhysicsRefused, Size

from .helpers import answer, ask, read_status

CHANNELS = 3

actions = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["unlock", "open", "force", "close", "put", "take"]),
                  st.integers(1, CHANNELS)),
        st.tuples(st.sampled_from(["poll", "ack", "stale_ack", "tick"]), st.just(0)),
    ),
    max_size=60,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(actions)
# the race the counter exists for: a door opens and closes between the read
# and the acknowledgement
@example([("poll", 0), ("force", 2), ("close", 2), ("ack", 0)])
@example([("poll", 0), ("poll", 0), ("force", 1), ("close", 1), ("stale_ack", 0)])
def test_no_opening_is_ever_lost(steps: list[tuple[str, int]]) -> None:
    comps = [Compartment(f"A{i}", Size.S) for i in range(1, CHANNELS + 1)]
    board = ReferenceBoard(1, comps, now=0.0)
    now = 0.0
    unseen = [False] * CHANNELS  # an opening the host has not yet been shown
    last_counter: int | None = None
    stale_counter: int | None = None

    def poll() -> None:
        nonlocal last_counter, stale_counter
        status = rb.parse_status(answer(board, rb.status_request(CHANNELS), now=now), CHANNELS)
        assert isinstance(status, rb.BoardStatus)
        for i, ch in enumerate(status.channels):
            if unseen[i]:
                assert ch.opened_since_ack or not ch.door_closed, f"channel {i + 1} lost"
            unseen[i] = False
        stale_counter, last_counter = last_counter, status.change_counter

    for action, channel in steps:
        now += 0.13
        comp = comps[channel - 1] if channel else None
        try:
            match action:
                case "unlock":
                    ask(board, rb.unlock_request(channel, CHANNELS, pulse_ms=200), now=now)
                case "open" | "force":
                    assert comp is not None
                    comp.open_door(now) if action == "open" else comp.force_door(now)
                    unseen[channel - 1] = True
                case "close":
                    assert comp is not None
                    comp.close_door(now)
                case "put":
                    assert comp is not None
                    comp.put_item(now)
                case "take":
                    assert comp is not None
                    comp.take_item(now)
                case "poll":
                    poll()
                case "ack" | "stale_ack":
                    counter = last_counter if action == "ack" else stale_counter
                    if counter is not None:
                        ask(board, rb.ack_request(counter), now=now)
                case "tick":
                    board.tick(now)
        except PhysicsRefused:
            pass  # a person could not do that: nothing happened
    now += 0.13
    poll()


@settings(max_examples=200, deadline=None)
@given(actions)
def test_the_counter_moves_whenever_a_door_opened(steps: list[tuple[str, int]]) -> None:
    """A host that sees an unchanged counter may skip the rest of the block."""
    comps = [Compartment(f"A{i}", Size.S) for i in range(1, CHANNELS + 1)]
    board = ReferenceBoard(1, comps, now=0.0)
    previous = read_status(board, CHANNELS).change_counter
    opens = [c.opens + c.forced_opens for c in comps]
    for now, (action, channel) in enumerate(steps):
        comp = comps[channel - 1]
        try:
            if action == "force":
                comp.force_door(now)
            elif action == "close":
                comp.close_door(now)
            elif action == "unlock":
                ask(board, rb.unlock_request(channel, CHANNELS), now=now)
        except PhysicsRefused:
            pass
        board.tick(now)
        counter = read_status(board, CHANNELS, now=now + 0.05).change_counter
        now_opens = [c.opens + c.forced_opens for c in comps]
        if now_opens != opens:
            assert counter != previous
        previous, opens = counter, now_opens
