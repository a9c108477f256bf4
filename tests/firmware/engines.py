"""The firmware core behind firmware/hal/sim_wire.py's line protocol, under
either interpreter, with the calls simulator.micropython.RemoteBoard makes of
a host: the same RemoteBoard then drives a board in this process or inside
MicroPython, and every answer is kept (the differential tests compare them).
"""

from __future__ import annotations

import itertools
import platform
from collections.abc import Callable

from firmware.hal import sim_wire
from protocol import reference_board as rb
from protocol.errors import BusFault
from protocol.modbus import Reply, Request, decode_reply, encode_request
from simulator.micropython import MicroPythonError, MicroPythonHost, RemoteBoard

# Board ids are unique across engines, so a transcript line names one board.
_IDS = itertools.count(1)
ALL_CLOSED_24 = [0xFFFF, 0x00FF]


class Engine:
    def __init__(self, name: str, send: Callable[[str], str]) -> None:
        self.name = name
        self._send = send
        self.answers: list[str] = []
        self._ids: list[int] = []

    def request(self, line: str) -> str:
        answer = self._send(line)
        self.answers.append(answer)
        if not answer.startswith("ok"):
            raise MicroPythonError(f"{self.name}: {line!r} -> {answer}")
        return answer

    def new_id(self) -> int:
        ident = next(_IDS)
        self._ids.append(ident)
        return ident

    def board(
        self, channels: int = 24, *, unit: int = 1, serial_format: int = 1, now: int = 0
    ) -> RemoteBoard:
        serial = 0x5100_0000 + unit
        return RemoteBoard(self, channels, serial, unit=unit, serial_format=serial_format, now=now)

    def close(self) -> None:
        """Forget this engine's boards (MicroPython's heap is shared by the session)."""
        while self._ids:
            self._send(f"drop {self._ids.pop()}")

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def in_process() -> Engine:
    return Engine(f"cpython {platform.python_version()}", sim_wire.call)


def under_micropython(host: MicroPythonHost) -> Engine:
    def send(line: str) -> str:
        try:
            return host.request(line)
        except MicroPythonError as exc:  # an `error ...` answer: the transcript keeps it
            return f"error {exc}"

    return Engine(f"micropython {host.version}", send)


# -- talking Modbus to a board -------------------------------------------------------


def ask(
    board: RemoteBoard, request: Request, now: int, *, unit: int = 1
) -> Reply | BusFault | None:
    """One request delivered at `now` (us); None when the board stays silent."""
    raw = board.deliver(encode_request(unit, request), now)
    return None if raw is None else decode_reply(unit, request, raw)


def status(board: RemoteBoard, now: int, channels: int = 24) -> rb.BoardStatus:
    reply = ask(board, rb.status_request(channels), now)
    result = rb.parse_status(reply, channels)
    assert isinstance(result, rb.BoardStatus), result
    return result
