"""What the line needs to know of a bus protocol: Modbus RTU or Kerong.

Boards decide for themselves whether a frame is theirs (boards/); the line
only records each frame (unit and function, or why no board could take it),
tells a broadcast from a request nobody answered, and, for the `wrong_unit`
fault, rewrites a reply as if another board had sent it. `DIALECTS` is keyed
by the framing of `protocol.families`: a family with a framing of its own
adds its dialect here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from protocol.crc import with_crc
from protocol.families import Framing
from protocol.kerong import cu16, cu48, seal
from protocol.modbus import BROADCAST, Ignored, decode_request


@dataclass(frozen=True, slots=True)
class Request:
    unit: int
    function: int
    broadcast: bool


class Dialect(Protocol):
    def describe(self, frame: bytes) -> Request | str:
        """The request, or why no board can take the frame."""
        ...

    def readdress(self, reply: bytes, draw: int) -> bytes:
        """`reply` as another board would send it; `draw` is random, 1..246."""
        ...


class Modbus:
    def describe(self, frame: bytes) -> Request | str:
        decoded = decode_request(frame)
        if isinstance(decoded, Ignored):
            return decoded.value
        return Request(frame[0], frame[1], frame[0] == BROADCAST)

    def readdress(self, reply: bytes, draw: int) -> bytes:
        unit = draw if draw < reply[0] else draw + 1
        return with_crc(bytes((unit,)) + reply[1:-2])


class Kerong:
    """CU16 and CU48 frames; a CU16 carries its board in the high nibble."""

    def describe(self, frame: bytes) -> Request | str:
        wide = cu48.decode_request(frame)
        if wide is not None:
            return Request(wide.board, wide.command, wide.board == cu48.BROADCAST)
        narrow = cu16.decode_request(frame)
        if narrow is not None:
            return Request(narrow.board, narrow.command, False)
        return "not_a_frame"

    def readdress(self, reply: bytes, draw: int) -> bytes:
        cu16_reply = len(reply) == cu16.REPLY_LENGTH and reply[2] == cu16.Command.STATUS_REPLY
        own = reply[1] >> 4 if cu16_reply else reply[1]
        other = draw % (cu16.MAX_BOARD if cu16_reply else cu48.MAX_BOARD)
        other = other if other < own else other + 1
        address = (other << 4) | (reply[1] & 0x0F) if cu16_reply else other
        return seal(reply[:1] + bytes((address,)) + reply[2:-1])


DIALECTS: dict[Framing, Dialect] = {Framing.MODBUS: Modbus(), Framing.KERONG: Kerong()}
