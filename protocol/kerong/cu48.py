"""Kerong KR-CU48: 48 locks with hook feedback, no item sensor.

Wire facts, "CU48 Protocol And Introduction V2.1" (Kerong, 2020-03-23),
19200 8N1:

    request   02 ADDR LOCK CMD 03 SUM                                  6 bytes
    reply     02 ADDR LOCK 65 D1 D2 D3 D4 D5 D6 03 SUM                 12 bytes

ADDR is the address switch, 0x00..0x09; 0x0A is broadcast. LOCK is 0x00..0x2F
(lock 1..48); 0x30 means all 48. CMD 0x50 asks for the status, CMD 0x51
unlocks and **gets no reply**. D1 bit 0 is lock 1 .. D6 bit 7 lock 48, 1 =
hook locked with the usual switch (the polarity flips with NO/NC hook
switches: the host's business). A broadcast status gets one reply per board
on the bus, each in its own time slot; the document does not say how the
slots are timed.

Firmware variant (`Variant.ALT_60`): status 0x60, unlock 0x61, success byte
0x75. Real captures (AshurkovAV/KerongConsole, "Коды для контролера запрос
ответ.txt") show the status reply, with ETX:

    status reply   02 ADDR 00 75 D1 .. D12 03 SUM                      18 bytes

D1..D6 are the 48 hook bits as in V2.1 (1 = closed: cell 14 closed gives
D2 = 0x20). D7..D12: no source says what they are; the captures show D7 =
0x01 in some replies whatever the hooks read. They are kept raw
(`Status.reserved`) and read by nothing. pirumu/node-pc's driver moved from
a 12-byte reading (a length byte 0x06, no ETX) to this 18-byte framing.
The unlock's answer appears only in that driver's diagram, never in a
capture:

    unlock reply   02 ADDR LOCK 75 00 SUM                              6 bytes
    (0x00 in place of 0x75: the board refused)

A host must not depend on it: it is read if it comes (framed by silence: no
ETX), and the unlock is confirmed by a status read either way. A host tells
the variants apart by probing: a V2.1 status request first, the variant's
next.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ..errors import BusFault, FaultKind, UsageError
from .frame import ETX, STX, KerongReader, ReplyFormat, check_board, seal, sum_ok

LOCKS = 48
MAX_BOARD = 9  # address switch 0x00..0x09 (V2.1); 0x0A is broadcast
BROADCAST = 0x0A
ALL_LOCKS = 0x30
REQUEST_LENGTH = 6
REPLY_LENGTH = 12
ALT_STATUS_LENGTH = 18
ALT_RESERVED_LENGTH = 6  # D7..D12 of the variant's status: meaning unknown
ALT_UNLOCK_LENGTH = 6
ALT_SUCCESS = 0x75
ALT_FAILURE = 0x00


class Command(IntEnum):
    STATUS = 0x50
    UNLOCK = 0x51
    STATUS_REPLY = 0x65
    ALT_STATUS = 0x60
    ALT_UNLOCK = 0x61


class Variant(StrEnum):
    V2_1 = "v2.1"  # the vendor document: 0x50 / 0x51, reply 0x65
    ALT_60 = "alt-0x60"  # 0x60 / 0x61, replies 0x75, no ETX

    @property
    def status_command(self) -> Command:
        return Command.STATUS if self is Variant.V2_1 else Command.ALT_STATUS

    @property
    def unlock_command(self) -> Command:
        return Command.UNLOCK if self is Variant.V2_1 else Command.ALT_UNLOCK

    @property
    def status_length(self) -> int:
        return REPLY_LENGTH if self is Variant.V2_1 else ALT_STATUS_LENGTH

    @property
    def unlock_may_answer(self) -> bool:
        """V2.1 never answers an unlock; the variant might (unverified)."""
        return self is Variant.ALT_60


def lock_byte(lock: int) -> int:
    if not 1 <= lock <= LOCKS:
        raise UsageError(f"lock {lock} is outside 1..{LOCKS}")
    return lock - 1


def _request(board: int, lock: int, command: Command) -> bytes:
    check_board(board, MAX_BOARD, broadcast=BROADCAST)
    return seal(bytes((STX, board, lock, command, ETX)))


def status_request(board: int, variant: Variant = Variant.V2_1) -> bytes:
    """`board` BROADCAST asks every board (V2.1: one reply each)."""
    return _request(board, 0x00, variant.status_command)


def unlock_request(board: int, lock: int, variant: Variant = Variant.V2_1) -> bytes:
    return _request(board, lock_byte(lock), variant.unlock_command)


def unlock_all_request(board: int, variant: Variant = Variant.V2_1) -> bytes:
    """Every lock of `board`; of every board on the bus with BROADCAST."""
    return _request(board, ALL_LOCKS, variant.unlock_command)


@dataclass(frozen=True, slots=True)
class Status:
    """`hooks[0]` is lock 1; True = the hook switch reads "locked" (raw).
    `reserved`: the 0x60 variant's D7..D12 as received (meaning unknown)."""

    board: int
    hooks: tuple[bool, ...]
    reserved: bytes = bytes(ALT_RESERVED_LENGTH)

    def __post_init__(self) -> None:
        check_board(self.board, MAX_BOARD)
        if len(self.hooks) != LOCKS:
            raise UsageError(f"a CU48 status has {LOCKS} hook bits, not {len(self.hooks)}")
        if len(self.reserved) != ALT_RESERVED_LENGTH:
            raise UsageError(f"D7..D12 are {ALT_RESERVED_LENGTH} bytes, not {len(self.reserved)}")


@dataclass(frozen=True, slots=True)
class UnlockAccepted:
    """The variant's acknowledgement of an unlock (V2.1 sends none)."""

    board: int
    lock: int


def _bits(data: bytes) -> tuple[bool, ...]:
    word = int.from_bytes(data, "little")
    return tuple(bool(word >> i & 1) for i in range(LOCKS))


def _pack(hooks: tuple[bool, ...]) -> bytes:
    return sum(1 << i for i, bit in enumerate(hooks) if bit).to_bytes(6, "little")


def encode_status(status: Status, variant: Variant = Variant.V2_1, lock: int = 0x00) -> bytes:
    """The board's reply; `lock` is the LOCK byte of the request, echoed (V2.1)."""
    data = _pack(status.hooks)
    if variant is Variant.V2_1:
        return seal(bytes((STX, status.board, lock, Command.STATUS_REPLY)) + data + bytes((ETX,)))
    head = bytes((STX, status.board, 0x00, ALT_SUCCESS))
    return seal(head + data + status.reserved + bytes((ETX,)))


def encode_unlock_reply(board: int, lock: int, *, accepted: bool = True) -> bytes:
    """The variant's answer to an unlock (`lock` 1..48)."""
    status = ALT_SUCCESS if accepted else ALT_FAILURE
    return seal(bytes((STX, board, lock_byte(lock), status, 0x00)))


def _parse_status(frame: bytes) -> Status | BusFault:
    return Status(frame[1], _bits(frame[4:10]))


def _parse_alt_status(frame: bytes) -> Status | BusFault:
    return Status(frame[1], _bits(frame[4:10]), frame[10:16])


def _parse_alt_unlock(frame: bytes) -> UnlockAccepted | BusFault:
    if frame[3] != ALT_SUCCESS:
        return BusFault(
            FaultKind.EXCEPTION_REPLY, "the board refused the unlock", frame[3], raw=frame
        )
    if frame[2] >= LOCKS:
        return BusFault(FaultKind.MISMATCH, f"lock byte 0x{frame[2]:02X}", raw=frame)
    return UnlockAccepted(frame[1], frame[2] + 1)


def status_reader(board: int, variant: Variant = Variant.V2_1) -> KerongReader[Status]:
    """Both variants' status replies end in ETX and have a known length: framed by content."""
    check_board(board, MAX_BOARD)
    if variant is Variant.V2_1:
        fmt = ReplyFormat(REPLY_LENGTH, board, ((3, Command.STATUS_REPLY.value),), _parse_status)
    else:
        markers = ((2, 0x00), (3, ALT_SUCCESS))
        fmt = ReplyFormat(ALT_STATUS_LENGTH, board, markers, _parse_alt_status)
    return KerongReader((fmt,), silence_framed=False)


def unlock_reader(board: int, lock: int) -> KerongReader[UnlockAccepted]:
    """The variant's acknowledgement (success or refusal) of one unlock, as one
    driver's diagram draws it (unverified: no capture shows one)."""
    check_board(board, MAX_BOARD)
    fmt = ReplyFormat(
        ALT_UNLOCK_LENGTH, board, ((2, lock_byte(lock)), (4, 0x00)), _parse_alt_unlock, etx=False
    )
    return KerongReader((fmt,), silence_framed=True)


# -- the board's side (the simulator) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    board: int  # BROADCAST included
    lock: int  # the LOCK byte: 0x00..0x2F, ALL_LOCKS, or anything a host sent
    command: int


def decode_request(frame: bytes) -> Request | None:
    """A request frame as a board sees it; None if it is not a well-formed one."""
    if len(frame) != REQUEST_LENGTH or frame[0] != STX or frame[4] != ETX or not sum_ok(frame):
        return None
    return Request(frame[1], frame[2], frame[3])
