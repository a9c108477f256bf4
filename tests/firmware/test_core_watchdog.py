"""A main loop that stops feeding the watchdog is reset by it: every coil
off, RESET and WATCHDOG set, settings kept. One that keeps running is not."""

from __future__ import annotations

from firmware.core.firmware import WATCHDOG_MS
from protocol import reference_board as rb
from protocol.modbus import WriteEcho, WriteSingleRegister

from .engines import Engine, ask

MS = 1000
RESET_BY_WATCHDOG = rb.StatusFlags.RESET | rb.StatusFlags.WATCHDOG


def test_a_stalled_loop_is_reset_by_the_watchdog(engine: Engine) -> None:
    board = engine.board()
    ask(board, WriteSingleRegister(rb.HR_PULSE_DEFAULT_MS, 8000), 0)
    ask(board, rb.set_unit_address_request(9), MS)
    assert isinstance(ask(board, rb.unlock_request(3, 24), 3 * MS, unit=9), WriteEcho)
    board.stall(4 * MS)
    expiry = 4 * MS + WATCHDOG_MS * MS
    assert board.wait_us() == WATCHDOG_MS * MS  # the shell wakes it when the watchdog bites
    board.advance(expiry - 1)
    assert board.info()["stalled"] == 1
    assert board.coils == [0b100, 0]  # a hung loop switches nothing off: the watchdog does
    assert board.deliver(b"\x09\x04\x00\x10\x00\x0a", expiry - 1) is None
    board.advance(expiry)
    info = board.info()
    assert info["stalled"] == 0 and board.coils == [0, 0]
    assert info["flags"] == RESET_BY_WATCHDOG
    assert info["pulse_default_ms"] == 8000 and board.unit == 9  # settings kept
    reply = ask(board, rb.status_request(24), expiry + MS, unit=9)
    parsed = rb.parse_status(reply, 24)  # type: ignore[arg-type]
    assert isinstance(parsed, rb.BoardStatus) and parsed.flags == RESET_BY_WATCHDOG
    # a matching ack clears both flags
    ask(board, rb.ack_request(parsed.change_counter), expiry + 2 * MS, unit=9)
    assert board.info()["flags"] == 0


def test_a_loop_that_keeps_running_is_never_reset(engine: Engine) -> None:
    board = engine.board()
    now = 0
    for _ in range(10):
        now += (WATCHDOG_MS - 1) * MS
        board.advance(now)
    assert board.info()["flags"] == rb.StatusFlags.RESET
    board.stall(now)
    board.advance(now + WATCHDOG_MS * MS - 1)  # shorter than the timeout: no reset yet
    assert board.info()["flags"] == rb.StatusFlags.RESET
