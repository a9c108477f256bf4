"""Kerong lock boards: KR-CU16 and KR-CU48 (not Modbus).

    frame   the 8-bit SUM, reply formats, the host-side reply reader (content
            framing, or framing by silence where reply lengths vary)
    cu16    16 locks + 16 infrared item sensors, `02 ADDR CMD 03 SUM`; an
            unlock may or may not be answered (two firmware behaviours)
    cu48    48 locks, hook feedback only, `02 ADDR LOCK CMD 03 SUM`, unlock
            without a reply, broadcast address; and the 0x60 firmware variant
            (18-byte status reply)

Which source says what, and what is still unverified: docs/boards.md,
"What the sources say".

Pure like the rest of `protocol`: bytes in, typed values or `BusFault` out.
"""

from . import cu16, cu48
from .frame import (
    ETX,
    FACTORY_FORMAT,
    REPLY_ALLOWANCE_S,
    STX,
    UNLOCK_MS_DEFAULT,
    UNLOCK_MS_MAX,
    UNLOCK_MS_MIN,
    KerongReader,
    ReplyFormat,
    checksum,
    read_frame,
    seal,
)

__all__ = [
    "ETX",
    "FACTORY_FORMAT",
    "REPLY_ALLOWANCE_S",
    "STX",
    "UNLOCK_MS_DEFAULT",
    "UNLOCK_MS_MAX",
    "UNLOCK_MS_MIN",
    "KerongReader",
    "ReplyFormat",
    "checksum",
    "cu16",
    "cu48",
    "read_frame",
    "seal",
]
