"""Second-generation resident ID card readers (SAM_V serial protocol, GA 467).

Theory of operation. The host polls: find card (20 01) until SW3 is 9F,
select card (20 02), then read (30 01, or 30 10 with fingerprints); any
other answer restarts at find. Each exchange is one command frame and one
reply frame, `AA AA AA 96 69 | Len | body | XOR` (see `frame`). The host
encodes a command with `encode_command`, feeds the bytes it receives to a
`ReplyReader` made for that command, and gets back a typed reply (a
`StatusReply` for any bare status such as "no card"), or a `ReaderFault`
when the line or the reader misbehaved. A read-card reply carries the
decoded text block as a typed record per card type.

Layout:
    frame       preamble, Len, XOR; the frame hunt shared by both sides
    status      SW3 codes (StatusCode) and UnknownStatus for the rest
    commands    the host commands and their bytes
    records     typed card records (resident, J permit, foreign 2017 / 2023)
    text_block  the 256-byte UCS-2 text block <-> records
    replies     reply values and the reply shape each command expects
    reader      ReplyReader: the host's incremental reply reader
    faults      ReaderFault, the value for a peer's misbehaviour
    slave       the reader's side: decode commands, encode replies
    usb         the same frames on USB bulk pipes (header and body apart)

Nothing here does I/O, reads a clock or logs. The records hold personal
data; their repr shows none of it.
"""

from .commands import (
    BAUD_PARAMETERS,
    CheckSam,
    Command,
    FindCard,
    ReadCard,
    ReadSamId,
    ResetSam,
    SelectCard,
    SetBaudRate,
    encode_command,
)
from .faults import ReaderFault, ReaderFaultKind
from .reader import ReplyReader, decode_reply
from .records import (
    CardRecord,
    ForeignPermanentCard2017,
    ForeignPermanentCard2023,
    ResidencePermit,
    ResidentCard,
    Sex,
)
from .replies import CardFound, CardRead, CardSelected, Reply, SamIdRead, StatusReply
from .slave import Ignored, Refused, decode_command, encode_reply, reply_frame
from .status import Status, StatusCode, UnknownStatus, decode_status
from .text_block import decode_card_text, encode_card_text

__all__ = [
    "BAUD_PARAMETERS",
    "CardFound",
    "CardRead",
    "CardRecord",
    "CardSelected",
    "CheckSam",
    "Command",
    "FindCard",
    "ForeignPermanentCard2017",
    "ForeignPermanentCard2023",
    "Ignored",
    "ReadCard",
    "ReadSamId",
    "ReaderFault",
    "ReaderFaultKind",
    "Refused",
    "Reply",
    "ReplyReader",
    "ResetSam",
    "ResidencePermit",
    "ResidentCard",
    "SamIdRead",
    "SelectCard",
    "SetBaudRate",
    "Sex",
    "Status",
    "StatusCode",
    "StatusReply",
    "UnknownStatus",
    "decode_card_text",
    "decode_command",
    "decode_reply",
    "decode_status",
    "encode_card_text",
    "encode_command",
    "encode_reply",
    "reply_frame",
]
