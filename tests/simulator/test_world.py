"""The world runs every timer in time order, boards and people interleaved."""

from __future__ import annotations

from protocol import reference_board as rb
from protocol.modbus import encode_request
from simulator.layout import simple_layout
from simulator.physics import UserBehaviour
from simulator.world import World

from .helpers import read_status


def world(auto_open: float | None) -> World:
    return World(simple_layout(boards=1, channels=8, user=UserBehaviour(auto_open, 1.0)), 0.0)


def unlock(w: World, channel: int, pulse_ms: int, now: float) -> None:
    board = next(w.boards())
    board.on_request(encode_request(1, rb.unlock_request(channel, 8, pulse_ms)), now)


def test_the_person_pulls_while_the_pulse_lasts() -> None:
    w = world(auto_open=0.2)
    unlock(w, 1, 500, 1.0)
    w.advance(5.0)  # late, in one go
    comp = w.compartments["A01"]
    assert comp.opens == 1 and not comp.door_open  # opened at 1.2, closed at 2.2
    status = read_status(next(w.boards()), 8, now=5.0)
    assert status.channel(1).opened_since_ack


def test_a_pulse_that_ended_first_keeps_the_door_shut() -> None:
    w = world(auto_open=0.6)
    unlock(w, 1, 500, 1.0)
    w.advance(5.0)  # even though the shell only looks now
    assert w.compartments["A01"].opens == 0


def test_advancing_backwards_is_harmless() -> None:
    w = world(auto_open=0.2)
    w.advance(2.0)
    w.advance(1.0)
    assert w.next_deadline() is None
