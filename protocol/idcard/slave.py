"""Reader side: decode host commands, encode replies (for the board simulator).

The caller hands over one complete frame (the simulator delimits frames by
the header's Len). What a SAM_V does with a bad one follows the SW3 table:
a bad Len is answered 11, a bad XOR 10, an unknown command 21 (a real
reader also answers 21 to the 30 03 / 30 05 / 61 FF commands it knows but
this codec does not model). Bytes that do not start with the preamble get
no answer at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..errors import UsageError
from .commands import ALL_COMMANDS, Command, command_code
from .frame import HEADER_SIZE, PREAMBLE, build_frame, checksum
from .replies import (
    CardFound,
    CardRead,
    CardSelected,
    Reply,
    SamIdRead,
    StatusReply,
    card_read_data,
)
from .status import Status, StatusCode, status_byte

_BY_CODE: dict[tuple[int, int], Command] = {command_code(c): c for c in ALL_COMMANDS}


class Ignored(StrEnum):
    """Why a frame gets no reply at all."""

    NO_PREAMBLE = "no_preamble"
    TOO_SHORT = "too_short"  # not even a header and a checksum


@dataclass(frozen=True, slots=True)
class Refused:
    """A host frame the reader answers with an error status and no data."""

    status: StatusCode


def decode_command(frame: bytes) -> Command | Refused | Ignored:
    if not frame.startswith(PREAMBLE):
        return Ignored.NO_PREAMBLE
    if len(frame) < HEADER_SIZE + 1:
        return Ignored.TOO_SHORT
    if int.from_bytes(frame[5:HEADER_SIZE], "big") != len(frame) - HEADER_SIZE:
        return Refused(StatusCode.HOST_LENGTH_ERROR)
    if checksum(frame[5:-1]) != frame[-1]:
        return Refused(StatusCode.HOST_CHECKSUM_ERROR)
    body = frame[HEADER_SIZE:-1]
    command = _BY_CODE.get((body[0], body[1])) if len(body) == 2 else None
    return Refused(StatusCode.COMMAND_ERROR) if command is None else command


def encode_reply(status: Status, payload: bytes = b"", *, sw1: int = 0, sw2: int = 0) -> bytes:
    """A reply frame: SW1 SW2 SW3, the payload (data) and the XOR check."""
    for value, what in ((sw1, "SW1"), (sw2, "SW2")):
        if not 0 <= value <= 0xFF:
            raise UsageError(f"{what} {value} is not a byte")
    return build_frame(bytes((sw1, sw2, status_byte(status))) + payload)


def reply_frame(reply: Reply) -> bytes:
    """The frame a reader sends for a typed reply (the inverse of `ReplyReader`)."""
    match reply:
        case StatusReply(status=status, sw1=sw1, sw2=sw2, junk=junk):
            return encode_reply(status, junk, sw1=sw1, sw2=sw2)
        case SamIdRead(sam_id=sam_id):
            return encode_reply(StatusCode.SUCCESS, sam_id)
        case CardFound(iin=iin):
            return encode_reply(StatusCode.CARD_FOUND, iin)
        case CardSelected(data=data):
            return encode_reply(StatusCode.SUCCESS, data)
        case CardRead():
            return encode_reply(StatusCode.SUCCESS, card_read_data(reply))
        case _:
            raise UsageError(f"not an ID-card reader reply: {reply!r}")
