"""Reader replies: one frozen class per kind, and what each command may get.

A reply body is SW1 SW2 SW3 [Data]. Every failure, and the success of a
command that returns nothing, is a bare status (Len = 00 04) and becomes a
`StatusReply`. A success with data has one fixed shape per command:

    command          success SW3   data
    ReadSamId        90            16 bytes (module identity)
    FindCard         9F            4 bytes ("IIN" per softs.im; all zero in every capture)
    SelectCard       90            8 bytes (meaning unverified; all zero in every capture)
    ReadCard         90            textLen(2) photoLen(2) text[256] photo[1024]
    ReadCard + fp    90            textLen(2) photoLen(2) fpLen(2) text photo fp[fpLen]

The lengths inside read-card data are big-endian (qiwenming README, eastcoms
533, DKCloud). fpLen is 0, 512 or 1024: the three frame sizes 1297, 1809
and 2321 that the sources report. Anything else is a BAD_LENGTH fault.

Readers in the field are sloppier than the table (issue 17): a find or
select success whose data is not 4 / 8 bytes, a bare status followed by a
junk byte inside its Len. What can be decoded is decoded: a find or select
success with 0 to `TOLERATED_DATA` data bytes is a `CardFound` /
`CardSelected` (whose data then shows the odd size), a status with up to
`STATUS_JUNK` extra bytes a `StatusReply` whose `junk` holds them; the
host counts both (locker_host/readers/sam_cycle.py). `accepts` tells the
frame hunt which bodies are a reply to the command at all, so a stale
reply to another command is still skipped, never taken for this one's.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from .commands import (
    CheckSam,
    Command,
    FindCard,
    ReadCard,
    ReadSamId,
    ResetSam,
    SelectCard,
    SetBaudRate,
)
from .faults import ReaderFault, ReaderFaultKind
from .frame import PREAMBLE
from .records import CardRecord
from .status import Status, StatusCode, decode_status
from .text_block import BLOCK_SIZE, decode_card_text, encode_card_text

SAM_ID_SIZE = 16
IIN_SIZE = 4
SELECT_DATA_SIZE = 8
PHOTO_SIZE = 1024  # WLT-compressed 102 x 126 image; needs the vendor decoder
FINGERPRINT_SIZES = (0, 512, 1024)  # none, one or two 512-byte templates
STATUS_LEN = 4  # Len of a bare status: SW1 SW2 SW3 CHK
TOLERATED_DATA = 32  # find / select success data sizes taken (the usual are 4 / 8)
STATUS_JUNK = 2  # extra bytes taken after a bare status


def _check_byte(value: int, what: str) -> None:
    if not 0 <= value <= 0xFF:
        raise UsageError(f"{what} {value} is not a byte")


def _check_size(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise UsageError(f"{what} is {size} bytes, not {len(data)}")


def _check_at_most(data: bytes, size: int, what: str) -> None:
    if len(data) > size:
        raise UsageError(f"{what} is at most {size} bytes, not {len(data)}")


@dataclass(frozen=True, slots=True)
class StatusReply:
    status: Status
    sw1: int = 0  # the card's ISO 7816 SW1/SW2, relayed; not 00 on some failures
    sw2: int = 0
    junk: bytes = b""  # bytes a sloppy reader put between SW3 and CHK (counted, ignored)

    def __post_init__(self) -> None:
        _check_byte(self.sw1, "SW1")
        _check_byte(self.sw2, "SW2")
        if len(self.junk) > STATUS_JUNK:
            raise UsageError(f"at most {STATUS_JUNK} junk bytes follow a status")


@dataclass(frozen=True, slots=True)
class SamIdRead:
    sam_id: bytes

    def __post_init__(self) -> None:
        _check_size(self.sam_id, SAM_ID_SIZE, "a SAM id")

    def as_text(self) -> str:
        """The printed form `D2.D2-u32-D10-D10`, as the reader's label and vendor tools show it.

        Field split from HslCommunication `ReadSafeModuleNumber` (bytes 1 and 3
        not shown, integers little-endian), which pads the last two groups to 9
        digits. Issue 17 reports that the vendor tools (Telpo's idcard API,
        corewise ParseSFZAPI) pad them to 10, the width of a u32
        (4294967295), so a technician can compare the text with the label.
        Their source was not in the public index we searched; Centerm's T5
        driver (`IDCardCmd.transformDeviceSnToTargetFormat`) does pad the
        u32 at data byte 8 to 10 digits (and the one at 4 to 8), which
        agrees (docs/id-card-reader.md, "SAM id").
        """
        b = self.sam_id

        def u32(at: int) -> int:
            return int.from_bytes(b[at : at + 4], "little")

        return f"{b[0]:02d}.{b[2]:02d}-{u32(4)}-{u32(8):010d}-{u32(12):010d}"


@dataclass(frozen=True, slots=True)
class CardFound:
    iin: bytes  # IIN_SIZE bytes from every documented reader; other sizes are tolerated

    def __post_init__(self) -> None:
        _check_at_most(self.iin, TOLERATED_DATA, "the find-card data")

    @property
    def usual(self) -> bool:
        return len(self.iin) == IIN_SIZE


@dataclass(frozen=True, slots=True)
class CardSelected:
    data: bytes  # unverified meaning, probably the card serial number

    def __post_init__(self) -> None:
        _check_at_most(self.data, TOLERATED_DATA, "the select-card data")

    @property
    def usual(self) -> bool:
        return len(self.data) == SELECT_DATA_SIZE


@dataclass(frozen=True, slots=True, repr=False)
class CardRead:
    card: CardRecord
    photo: bytes  # WLT
    fingerprints: bytes | None  # None: read without fingerprints (30 01); b"": card has none

    def __post_init__(self) -> None:
        _check_size(self.photo, PHOTO_SIZE, "a photo")
        if self.fingerprints is not None and len(self.fingerprints) not in FINGERPRINT_SIZES:
            raise UsageError(f"fingerprint data is one of {FINGERPRINT_SIZES} bytes")

    def __repr__(self) -> str:
        # The photo and fingerprints are biometric data: sizes only.
        prints = "None" if self.fingerprints is None else f"<{len(self.fingerprints)} bytes>"
        photo = f"<{len(self.photo)} bytes>"
        return f"CardRead(card={self.card!r}, photo={photo}, fingerprints={prints})"


Reply = StatusReply | SamIdRead | CardFound | CardSelected | CardRead


def success_status(command: Command) -> StatusCode:
    return StatusCode.CARD_FOUND if isinstance(command, FindCard) else StatusCode.SUCCESS


def _card_read_sizes(with_fingerprints: bool) -> frozenset[int]:
    if with_fingerprints:
        return frozenset(6 + BLOCK_SIZE + PHOTO_SIZE + fp for fp in FINGERPRINT_SIZES)
    return frozenset({4 + BLOCK_SIZE + PHOTO_SIZE})


def success_data_sizes(command: Command) -> frozenset[int]:
    """Data sizes a success reply to `command` may carry."""
    match command:
        case ResetSam() | CheckSam() | SetBaudRate():
            return frozenset({0})
        case ReadSamId():
            return frozenset({SAM_ID_SIZE})
        case FindCard():
            return frozenset({IIN_SIZE})
        case SelectCard():
            return frozenset({SELECT_DATA_SIZE})
        case ReadCard(with_fingerprints=with_fingerprints):
            return _card_read_sizes(with_fingerprints)
        case _:
            raise UsageError(f"not an ID-card reader command: {command!r}")


def _tolerated_success_sizes(command: Command) -> frozenset[int]:
    if isinstance(command, FindCard | SelectCard):
        return frozenset(range(TOLERATED_DATA + 1))
    return success_data_sizes(command)


def reply_lengths(command: Command) -> frozenset[int]:
    """Len values of every reply to `command` we take: a status (with junk), a success."""
    statuses = {STATUS_LEN + junk for junk in range(STATUS_JUNK + 1)}
    return frozenset(statuses | {STATUS_LEN + n for n in _tolerated_success_sizes(command)})


def usual_reply_lengths(command: Command) -> frozenset[int]:
    """Len values of the replies the sources document: a bare status, a success."""
    return frozenset({STATUS_LEN} | {STATUS_LEN + n for n in success_data_sizes(command)})


def accepts(command: Command, body: bytes) -> bool:
    """Whether a checked frame body (SW1 SW2 SW3 Data) may be a reply to `command`."""
    if len(body) < 3:
        return False
    data = len(body) - 3
    if body[2] == success_status(command) and success_data_sizes(command) != {0}:
        return data in _tolerated_success_sizes(command)
    return data <= STATUS_JUNK


def interpret(command: Command, body: bytes) -> Reply | ReaderFault:
    """The reply in a checked frame body (SW1 SW2 SW3 Data) answering `command`."""
    if len(body) < 3:
        raise UsageError("a reply body holds at least SW1 SW2 SW3")
    sw1, sw2, sw3 = body[:3]
    data = body[3:]
    status = decode_status(sw3)
    header = PREAMBLE + (len(body) + 1).to_bytes(2, "big") + body[:3]
    sizes = success_data_sizes(command)
    if status is success_status(command) and sizes != {0}:
        if len(data) not in _tolerated_success_sizes(command):
            return ReaderFault(
                ReaderFaultKind.BAD_LENGTH, f"success with {len(data)} data bytes", header
            )
        return _success(command, data, header)
    if len(data) > STATUS_JUNK:
        return ReaderFault(
            ReaderFaultKind.BAD_LENGTH, f"SW3 0x{sw3:02X} with {len(data)} data bytes", header
        )
    return StatusReply(status, sw1, sw2, data)


def _success(command: Command, data: bytes, header: bytes) -> Reply | ReaderFault:
    match command:
        case ReadSamId():
            return SamIdRead(data)
        case FindCard():
            return CardFound(data)
        case SelectCard():
            return CardSelected(data)
        case ReadCard(with_fingerprints=with_fingerprints):
            return _card_read(data, with_fingerprints, header)
        case _:
            raise UsageError(f"{command!r} has no success data")


def _card_read(data: bytes, with_fingerprints: bool, header: bytes) -> CardRead | ReaderFault:
    count = 3 if with_fingerprints else 2
    text_len, photo_len, *rest = (
        int.from_bytes(data[at : at + 2], "big") for at in range(0, 2 * count, 2)
    )
    fingerprint_len = rest[0] if rest else 0
    if (text_len, photo_len) != (BLOCK_SIZE, PHOTO_SIZE) or (
        2 * count + text_len + photo_len + fingerprint_len != len(data)
    ):
        return ReaderFault(
            ReaderFaultKind.BAD_LENGTH,
            f"text/photo/fingerprint lengths {text_len}/{photo_len}/{fingerprint_len}"
            f" do not add up to {len(data)} data bytes",
            header,
        )
    text_at = 2 * count
    photo_at = text_at + BLOCK_SIZE
    prints_at = photo_at + PHOTO_SIZE
    card = decode_card_text(data[text_at:photo_at])
    if isinstance(card, ReaderFault):
        return ReaderFault(card.kind, card.detail, header)
    return CardRead(card, data[photo_at:prints_at], data[prints_at:] if with_fingerprints else None)


def card_read_data(reply: CardRead) -> bytes:
    """The data of a read-card success reply (the inverse of what `interpret` reads)."""
    prints = reply.fingerprints
    lengths = [BLOCK_SIZE, PHOTO_SIZE] + ([] if prints is None else [len(prints)])
    return (
        b"".join(n.to_bytes(2, "big") for n in lengths)
        + encode_card_text(reply.card)
        + reply.photo
        + (prints or b"")
    )
