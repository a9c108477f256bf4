"""A line protocol over SimBoard: how the simulator drives boards that run
inside MicroPython (simulator/micropython/host.mjs), and how the tests run
the same conversation under both interpreters and compare it byte for byte.

One request a line, one answer a line. Numbers are decimal, frames hex,
input and output words hex joined by commas:

    new ID CHANNELS SERIAL UNIT SERIAL_FORMAT NOW   a board, booted at NOW
    frame ID NOW HEX                              deliver a frame (see SimBoard.deliver)
    inputs ID NOW DOOR ITEM FEEDBACK              raw levels changed
    advance ID NOW                                run the main loop
    power ID NOW                                  power cycle
    stall ID NOW                                  the main loop hangs
    info ID                                       flags, counter, settings
    drop ID                                       forget the board

Every board request answers `ok REPLY UNIT WAIT COILS FORMAT`: the reply
frame in hex (or `-`), the unit address now in use, the microseconds until
the board wants `advance` again (-1: never), the coil words, and the
serial format its UART was opened with (serial_format register codes). `info`
answers `ok` and key=value pairs; a bad request answers `error` and why.
"""

import binascii

from .sim import SimBoard

_boards: "dict[int, SimBoard]" = {}


def _words(text: str) -> "list[int]":
    return [int(part, 16) for part in text.split(",")]


def _state(board: SimBoard, reply: "bytes | None") -> str:
    coils = ",".join("%x" % word for word in board.coils)
    frame = binascii.hexlify(reply).decode() if reply else "-"
    return "ok %s %d %d %s %d" % (frame, board.unit, board.wait_us(), coils, board.uart_format)


def call(line: str) -> str:
    try:
        return _call(line.split())
    except Exception as exc:  # the answer names it; the caller decides
        return "error %s %s" % (type(exc).__name__, exc)


def _call(words: "list[str]") -> str:
    verb = words[0]
    ident = int(words[1])
    if verb == "new":
        channels, serial, unit, serial_format, now = (int(w) for w in words[2:7])
        board = SimBoard(channels, serial, unit, serial_format, now)
        _boards[ident] = board
        return _state(board, None)
    if verb == "drop":
        _boards.pop(ident, None)
        return "ok"
    board = _boards[ident]
    if verb == "info":
        return "ok " + " ".join("%s=%d" % (k, v) for k, v in sorted(board.info().items()))
    now = int(words[2])
    reply = None
    if verb == "frame":
        reply = board.deliver(binascii.unhexlify(words[3]), now)
    elif verb == "inputs":
        board.set_inputs(_words(words[3]), _words(words[4]), _words(words[5]), now)
    elif verb == "advance":
        board.advance(now)
    elif verb == "power":
        board.power_up(now)
    elif verb == "stall":
        board.stall(now)
    else:
        raise ValueError("unknown request " + verb)
    return _state(board, reply)
