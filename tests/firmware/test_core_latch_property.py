"""Hypothesis: whatever the doors do and whenever the host polls and
acknowledges, the core never loses a door opening that lasted at least the
debounce time (tests/simulator/test_latch_property.py, carried over to the
firmware: raw door wires, debouncing, the change counter's race-free ack)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from firmware.core.board import DEBOUNCE_US
from protocol import reference_board as rb
from simulator.micropython import MicroPythonHost, RemoteBoard

from .engines import Engine, ask, in_process, status, under_micropython
from .streams import budget
from .wires import Wires

CHANNELS = 3
MS = 1000

actions = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["open", "close", "unlock"]), st.integers(1, CHANNELS)),
        st.tuples(st.sampled_from(["poll", "ack", "stale_ack"]), st.just(0)),
        st.tuples(st.just("wait"), st.sampled_from([MS, 10 * MS, 19 * MS, 25 * MS, 130 * MS])),
    ),
    max_size=60,
)

# the race the counter exists for: a door opens and closes between the read and the ack
RACE = [
    ("poll", 0),
    ("open", 2),
    ("wait", 25 * MS),
    ("close", 2),
    ("wait", 25 * MS),  # the closing is accepted before the ack arrives
    ("ack", 0),
]
# a neighbour in the same sixteen changes while a door is open: the opening
# (26 ms) is still one held for the debounce, and must not be lost
NEIGHBOUR = [("open", 1), ("wait", 10 * MS), ("open", 2), ("wait", 10 * MS), ("close", 1)]
STALE = [("poll", 0), ("poll", 0), ("open", 1), ("wait", 25 * MS), ("close", 1), ("stale_ack", 0)]


class Host:
    """A perfect shell (wakes the board whenever it asks) and a host that
    must be shown every opening."""

    def __init__(self, board: RemoteBoard) -> None:
        self.board = board
        self.now = 0
        self.opened_at: list[int | None] = [None] * CHANNELS
        self.unseen = [False] * CHANNELS  # an opening the host has not been shown yet
        self.counters: list[int] = []

    def until(self, target: int) -> None:
        """Wake the board at every moment it asks for up to `target`, then at `target`
        (its wait_us counts from the last call, which was at self.now)."""
        while self.board.wait_us() >= 0 and self.now + self.board.wait_us() <= target:
            self.now += self.board.wait_us()
            self.board.advance(self.now)
        self.now = target
        self.board.advance(target)

    def poll(self) -> None:
        st = status(self.board, self.now, CHANNELS)
        for i, ch in enumerate(st.channels):
            opened = self.opened_at[i]
            if opened is not None and self.now - opened >= DEBOUNCE_US:
                self.unseen[i] = True  # still open, for long enough to be seen
            if self.unseen[i]:
                assert ch.opened_since_ack or not ch.door_closed, f"channel {i + 1} lost"
            self.unseen[i] = False
        self.counters.append(st.change_counter)


def check(engine: Engine, steps: list[tuple[str, int]]) -> None:
    with engine:
        board = engine.board(CHANNELS)
        wires = Wires(board, CHANNELS)
        wires.close_all(CHANNELS, 0)
        board.power_up(0)
        host = Host(board)
        for action, arg in steps:
            host.until(host.now + (arg if action == "wait" else 3 * MS))
            if action == "open" and host.opened_at[arg - 1] is None:
                wires.set(wires.door, arg, False, host.now)
                host.opened_at[arg - 1] = host.now
            elif action == "close" and host.opened_at[arg - 1] is not None:
                wires.set(wires.door, arg, True, host.now)
                if host.now - host.opened_at[arg - 1] >= DEBOUNCE_US:
                    host.unseen[arg - 1] = True
                host.opened_at[arg - 1] = None
            elif action == "unlock":
                ask(board, rb.unlock_request(arg, CHANNELS, pulse_ms=200), host.now)
            elif action == "poll":
                host.poll()
            elif action in ("ack", "stale_ack") and host.counters:
                index = -1 if action == "ack" else max(0, len(host.counters) - 2)
                ask(board, rb.ack_request(host.counters[index]), host.now)
        host.until(host.now + 200 * MS)
        host.poll()


@budget(1500)
@given(actions)
@example(RACE)
@example(STALE)
@example(NEIGHBOUR)
def test_no_opening_is_ever_lost_cpython(steps: list[tuple[str, int]]) -> None:
    check(in_process(), steps)


@budget(200)
@given(actions)
@example(RACE)
@example(NEIGHBOUR)
def test_no_opening_is_ever_lost_micropython(
    micropython: MicroPythonHost, steps: list[tuple[str, int]]
) -> None:
    check(under_micropython(micropython), steps)
