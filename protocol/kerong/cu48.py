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

Firmware variant (`Variant.ALT_60`). A community driver (NestJS, unverified
on hardware) drives a "CU" board with CMD 0x60 (status) and 0x61 (unlock)
and reads success byte 0x75 where V2.1 has 0x65; its replies carry no ETX:

    status reply   02 ADDR 00 75 06 D1 D2 D3 D4 D5 D6 SUM              12 bytes
    unlock reply   02 ADDR LOCK 75 00 SUM                              6 bytes
    (0x00 in place of 0x75: the board refused)

Replies of different lengths and no ETX cannot be framed by content (a
12-byte status can open with six bytes that pass for an acknowledgement),
so this variant's readers frame by silence (frame.py). A host tells the
variants apart by probing: a V2.1 status request first, the variant's next.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ..errors import BusFault, FaultKind, UsageError
from .frame import ETX, STX, KerongReader, ReplyFormat, check_board, seal, sum_ok

LOCKS = 48
BROADCAST = 0x0A
ALL_LOCKS = 0x30
REQUEST_LENGTH = 6
REPLY_LENGTH = 12
ALT_STATUS_LENGTH = 12
ALT_UNLOCK_LENGTH = 6
ALT_SUCCESS = 0x75
ALT_FAILURE = 0x00
ALT_DATA_LENGTH = 0x06


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
    def unlock_answered(self) -> bool:
        return self is Variant.ALT_60


def lock_byte(lock: int) -> int:
    if not 1 <= lock <= LOCKS:
        raise UsageError(f"lock {lock} is outside 1..{LOCKS}")
    return lock - 1


def _request(board: int, lock: int, command: Command) -> bytes:
    check_board(board, broadcast=BROADCAST)
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
    """`hooks[0]` is lock 1; True = the hook switch reads "locked" (raw)."""

    board: int
    hooks: tuple[bool, ...]

    def __post_init__(self) -> None:
        check_board(self.board)
        if len(self.hooks) != LOCKS:
            raise UsageError(f"a CU48 status has {LOCKS} hook bits, not {len(self.hooks)}")


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
    return seal(bytes((STX, status.board, 0x00, ALT_SUCCESS, ALT_DATA_LENGTH)) + data)


def encode_unlock_reply(board: int, lock: int, *, accepted: bool = True) -> bytes:
    """The variant's answer to an unlock (`lock` 1..48)."""
    status = ALT_SUCCESS if accepted else ALT_FAILURE
    return seal(bytes((STX, board, lock_byte(lock), status, 0x00)))


def _parse_status(frame: bytes) -> Status | BusFault:
    return Status(frame[1], _bits(frame[4:10]))


def _parse_alt_status(frame: bytes) -> Status | BusFault:
    return Status(frame[1], _bits(frame[5:11]))


def _parse_alt_unlock(frame: bytes) -> UnlockAccepted | BusFault:
    if frame[3] != ALT_SUCCESS:
        return BusFault(
            FaultKind.EXCEPTION_REPLY, "the board refused the unlock", frame[3], raw=frame
        )
    if frame[2] >= LOCKS:
        return BusFault(FaultKind.MISMATCH, f"lock byte 0x{frame[2]:02X}", raw=frame)
    return UnlockAccepted(frame[1], frame[2] + 1)


def status_reader(board: int, variant: Variant = Variant.V2_1) -> KerongReader[Status]:
    check_board(board)
    if variant is Variant.V2_1:
        fmt = ReplyFormat(REPLY_LENGTH, board, ((3, Command.STATUS_REPLY.value),), _parse_status)
        return KerongReader((fmt,), silence_framed=False)
    markers = ((2, 0x00), (3, ALT_SUCCESS), (4, ALT_DATA_LENGTH))
    alt = ReplyFormat(ALT_STATUS_LENGTH, board, markers, _parse_alt_status, etx=False)
    return KerongReader((alt,), silence_framed=True)


def unlock_reader(board: int, lock: int) -> KerongReader[UnlockAccepted]:
    """The variant's acknowledgement (success or refusal) of one unlock."""
    check_board(board)
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
