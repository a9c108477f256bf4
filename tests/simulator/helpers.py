"""Small helpers shared by the simulator tests."""

from __future__ import annotations

import time

import serial

from protocol.errors import BusFault
from protocol.modbus import Reply, Request, decode_reply, encode_request
from protocol.modbus.rtu import ReplyReader
from protocol.reference_board import BoardStatus, parse_status, status_request
from simulator.boards import Board
from simulator.line import Line


def ask(
    board: Board, request: Request, *, unit: int = 1, now: float = 0.0
) -> Reply | BusFault | None:
    """One request straight into a board model; None when it stays silent."""
    reply = board.on_request(encode_request(unit, request), now)
    if reply is None:
        return None
    return decode_reply(unit, request, reply)


def answer(board: Board, request: Request, *, unit: int = 1, now: float = 0.0) -> Reply | BusFault:
    """Like `ask`, for a request that must be answered."""
    reply = ask(board, request, unit=unit, now=now)
    assert reply is not None, f"unit {unit} did not answer {request}"
    return reply


def read_status(board: Board, channels: int, *, unit: int = 1, now: float = 0.0) -> BoardStatus:
    """The reference board's status block, read as a host reads it."""
    status = parse_status(answer(board, status_request(channels), unit=unit, now=now), channels)
    assert isinstance(status, BoardStatus), status
    return status


def run_line(line: Line, frames: list[tuple[float, bytes]]) -> list[tuple[float, bytes]]:
    """Feed timed frames into a line; return every output chunk with its release time,
    advancing exactly to each deadline (a perfect shell)."""
    out: list[tuple[float, bytes]] = []
    pending = sorted(frames)
    while pending or line.next_deadline() is not None:
        due = line.next_deadline()
        if pending and (due is None or pending[0][0] <= due):
            at, data = pending.pop(0)
            line.feed(data, at)
            continue
        assert due is not None
        line.advance(due)
        out += [(due, data) for _, data in line.take_output(due)]
    return out


def transact_serial(
    port: serial.Serial, unit: int, request: Request, timeout: float = 1.0
) -> Reply | BusFault:
    """One request over a pyserial port, the way a host would do it."""
    port.write(encode_request(unit, request))
    reader = ReplyReader(unit, request)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = port.read(port.in_waiting or 1)
        result = reader.feed(data)
        if result is not None:
            return result
    return reader.give_up()
