"""Kerong KR-CU16: 16 locks with hook feedback and 16 infrared item sensors.

Wire facts (19200 8N1 by default; sources in docs/boards.md):

    request   02 ADDR CMD 03 SUM                      5 bytes
    reply     02 ADDR 35 H1 H2 IR1 IR2 03 SUM          9 bytes

ADDR is (board << 4) | lock: the board's address (0..15: the nibble, as
kerong-lib allows; Kerong's RU documents number a chain 0..9) in the high
nibble, the lock (0 = lock 1 .. 15 = lock 16) in the low one; a board-wide
command carries lock 0. SUM is the low byte of the sum of the bytes before
it. Commands: 0x30 status (jin0949/locker-service, kerong-lib), 0x32 the
status as lkaas-kerong reads it (the CartWise table calls it "get all on
bus"; the board answers the same 9-byte frame), 0x31 unlock one, 0x33
unlock all. H1/H2 are the hook bits of locks 1-8 / 9-16 (bit 0 = the lower
lock), IR1/IR2 the item bits, raw: which level means "locked" or "item"
differs between boards (kerong-lib's NCU16L reads 0 = locked), so polarity
is the host's business.

An unlock may or may not be answered: kerong-lib says no reply comes, most
drivers never read one, a few wait for the 9-byte status. `Variant` names
the two behaviours for the simulator; a host accepts a reply if one comes
and never depends on it.

The reply's address byte is taken to carry the board in its high nibble;
its low nibble is not checked (the sources disagree on whether the board
echoes the lock there). The unlock time is a board setting; one driver sets
it with `02 ADDR 37 HI LO 03 SUM` in 10 ms units, unverified, so this module
does not encode it and nothing sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ..errors import BusFault, UsageError
from .frame import ETX, STX, KerongReader, ReplyFormat, check_board, seal, sum_ok

LOCKS = 16
MAX_BOARD = 15  # the high nibble of ADDR
REQUEST_LENGTH = 5
REPLY_LENGTH = 9


class Command(IntEnum):
    STATUS = 0x30
    UNLOCK = 0x31
    STATUS_ALL = 0x32  # lkaas-kerong's status read; "get all on bus" in the CartWise table
    UNLOCK_ALL = 0x33
    STATUS_REPLY = 0x35
    ALL_REPLY = 0x36  # the CartWise table's reply to 0x32; lkaas-kerong does not check the byte


# The two status commands a host may poll with, in the order it tries them.
STATUS_COMMANDS = (Command.STATUS, Command.STATUS_ALL)


class Variant(StrEnum):
    """How a board treats an unlock; the first is the simulator's default."""

    UNLOCK_SILENT = "unlock-silent"  # kerong-lib: no reply to 0x31
    UNLOCK_ANSWERED = "unlock-answered"  # the 9-byte status comes back


def address(board: int, lock: int = 1) -> int:
    check_board(board, MAX_BOARD)
    if not 1 <= lock <= LOCKS:
        raise UsageError(f"lock {lock} is outside 1..{LOCKS}")
    return (board << 4) | (lock - 1)


def seal_request(addr: int, command: int) -> bytes:
    return seal(bytes((STX, addr, command, ETX)))


def status_request(board: int, command: Command = Command.STATUS) -> bytes:
    if command not in STATUS_COMMANDS:
        raise UsageError(f"{command!r} is not a status command")
    return seal_request(address(board), command)


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
        check_board(self.board, MAX_BOARD)
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


def status_formats(board: int) -> tuple[ReplyFormat[Status], ...]:
    return tuple(
        ReplyFormat(REPLY_LENGTH, address(board), ((2, reply),), _parse_status, address_mask=0xF0)
        for reply in (Command.STATUS_REPLY.value, Command.ALL_REPLY.value)
    )


def status_reader(board: int) -> KerongReader[Status]:
    """The reader for the reply to a status request (0x30 or 0x32), and to an
    unlock if one comes: the 9-byte status, its command byte 0x35 or 0x36."""
    return KerongReader(status_formats(board), silence_framed=False)


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
