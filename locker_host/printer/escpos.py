"""A drop-off receipt as ESC/POS bytes (Epson ESC/POS command reference).

Only the handful of commands every 58/80 mm thermal printer sold in China
understands: ``ESC @`` (initialise), ``ESC a n`` (alignment), ``GS ! n``
(character size), ``FS &`` (Chinese character mode: the text that follows is
GB 18030 / GBK, the printers' built-in Chinese font), ``ESC d n`` (feed n
lines) and ``GS V 66 n`` (feed and partial cut). Bilingual like the kiosk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"
INITIALISE = ESC + b"@"
CHINESE_MODE = FS + b"&"
LEFT, CENTRE = ESC + b"a\x00", ESC + b"a\x01"
NORMAL_SIZE, DOUBLE_SIZE = GS + b"!\x00", GS + b"!\x11"
FEED_AND_CUT = ESC + b"d\x04" + GS + b"V\x42\x00"
ENCODING = "gb18030"


@dataclass(frozen=True)
class Receipt:
    receipt: str  # the dossier's receipt number (its item id)
    compartment: str
    department: str  # as people read it ("市场监督管理局")
    site: str
    locker: str
    at: datetime  # local wall time of the deposit


def encode_receipt(receipt: Receipt) -> bytes:
    def line(text: str) -> bytes:
        return text.encode(ENCODING) + LF

    return b"".join(
        [
            INITIALISE,
            CHINESE_MODE,
            CENTRE,
            DOUBLE_SIZE,
            line("材料投递回执"),
            NORMAL_SIZE,
            line("Drop-off receipt"),
            LF,
            line("回执号 Receipt number"),
            DOUBLE_SIZE,
            line(receipt.receipt),
            NORMAL_SIZE,
            LEFT,
            LF,
            line(f"柜格 Compartment: {receipt.compartment}"),
            line(f"部门 Department: {receipt.department}"),
            line(f"时间 Time: {receipt.at:%Y-%m-%d %H:%M}"),
            line(f"地点 Locker: {receipt.site} {receipt.locker}"),
            LF,
            CENTRE,
            line("请妥善保管本回执"),
            line("Keep this receipt to follow your application"),
            FEED_AND_CUT,
        ]
    )
