"""Kerong KR-CU16: 16 locks with hook feedback and 16 infrared item sensors.

Wire facts (19200 8N1 by default; sources in docs/boards.md):

    request   02 ADDR CMD 03 SUM                      5 bytes
    reply     02 ADDR 35 H1 H2 IR1 IR2 03 SUM          9 bytes

ADDR is (board << 4) | lock: the board's address switch (0..9) in the high
nibble, the lock (0 = lock 1 .. 15 = lock 16) in the low one; a board-wide
command (status, unlock all) carries lock 0. SUM is the low byte of the sum
of the bytes before it. Commands: 0x30 status, 0x31 unlock one, 0x33 unlock
all; the board answers each with its status (0x35). H1/H2 are the hook bits
of locks 1-8 / 9-16 (bit 0 = the lower lock, 1 = hook locked), IR1/IR2 the
item bits (1 = something inside), raw: polarity is the host's business.

The reply's address byte is taken to carry the board in its high nibble;
its low nibble is not checked (the sources disagree on whether the board
echoes the lock there). The unlock time is a board setting (command 0x37 in
the vendor's tools); its frame is not in a source we could check, so this
module does not encode it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ..errors import BusFault, UsageError
from .frame import ETX, STX, KerongReader, ReplyFormat, check_board, seal, sum_ok

LOCKS = 16
REQUEST_LENGTH = 5
REPLY_LENGTH = 9


class Command(IntEnum):
    STATUS = 0x30
    UNLOCK = 0x31
    UNLOCK_ALL = 0x33
    STATUS_REPLY = 0x35


def address(board: int, lock: int = 1) -> int:
    check_board(board)
    if not 1 <= lock <= LOCKS:
        raise UsageError(f"lock {lock} is outside 1..{LOCKS}")
    return (board << 4) | (lock - 1)


def seal_request(addr: int, command: int) -> bytes:
    return seal(bytes((STX, addr, command, ETX)))


def status_request(board: int) -> bytes:
    return seal_request(address(board), Command.STATUS)


def unlock_request(board: int, lock: int) -> bytes:
    return seal_request(address(board, lock), Command.UNLOCK)


def unlock_all_request(board: int) -> bytes:
    return seal_request(address(board), Command.UNLOCK_ALL)


@dataclass(frozen=True, slots=True)
class Status:
    """One board's reply: `hooks[0]` is lock 1 (True = hook locked), `items[0]`
    its infrared sensor (True = something inside); raw bits."""

    board: int
    hooks: tuple[bool, ...]
    items: tuple[bool, ...]

    def __post_init__(self) -> None:
        check_board(self.board)
        if len(self.hooks) != LOCKS or len(self.items) != LOCKS:
            raise UsageError(f"a CU16 status has {LOCKS} hooks and {LOCKS} item bits")


def _bits(data: bytes) -> tuple[bool, ...]:
    word = int.from_bytes(data, "little")
    return tuple(bool(word >> i & 1) for i in range(8 * len(data)))


def _pack(bits: tuple[bool, ...]) -> bytes:
    return sum(1 << i for i, bit in enumerate(bits) if bit).to_bytes(len(bits) // 8, "little")


def encode_status(status: Status, addr: int | None = None) -> bytes:
    """The board's reply; `addr` is the address byte to send (default: lock 1's)."""
    head = bytes((STX, address(status.board) if addr is None else addr, Command.STATUS_REPLY))
    return seal(head + _pack(status.hooks) + _pack(status.items) + bytes((ETX,)))


def _parse_status(frame: bytes) -> Status | BusFault:
    return Status(frame[1] >> 4, _bits(frame[3:5]), _bits(frame[5:7]))


def status_format(board: int) -> ReplyFormat[Status]:
    markers = ((2, Command.STATUS_REPLY.value),)
    return ReplyFormat(REPLY_LENGTH, address(board), markers, _parse_status, address_mask=0xF0)


def status_reader(board: int) -> KerongReader[Status]:
    """The reader for the reply to a status, unlock or unlock-all request."""
    return KerongReader((status_format(board),), silence_framed=False)


# -- the board's side (the simulator) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    board: int
    lock: int  # 1..16, from the low nibble (1 for board-wide commands)
    command: int  # not necessarily a known `Command`
    address: int  # the address byte as sent


def decode_request(frame: bytes) -> Request | None:
    """A request frame as a board sees it; None if it is not a well-formed one."""
    if len(frame) != REQUEST_LENGTH or frame[0] != STX or frame[3] != ETX or not sum_ok(frame):
        return None
    return Request(frame[1] >> 4, (frame[1] & 0x0F) + 1, frame[2], frame[1])
