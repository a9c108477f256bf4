"""SW3, the reader's own status byte (reply frame offset 9).

Every driver decides success on SW3 alone; SW1 SW2 relay the card's
ISO 7816 status and are not 00 00 for every failure (softs.im shows `XX XX`
before 31, 41, 47 and 81), so they are kept but never interpreted.

Codes from libsamv.h `SAMV_ERRCODE_*`, HslCommunication `GetErrorDescription`
and the softs.im table, which agree. libsamv's 0xFF "communication fault" is
left out: it appears in no other source and looks library-internal, so on
the wire it is an `UnknownStatus`, like any code not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ..errors import UsageError


class StatusCode(IntEnum):
    SUCCESS = 0x90  # 操作成功
    NO_CONTENT = 0x91  # 证/卡中此项无内容 (e.g. no appended address)
    CARD_FOUND = 0x9F  # 寻找证/卡成功: the only success code of find card (20 01)
    HOST_CHECKSUM_ERROR = 0x10  # the reader got a host frame with a bad XOR
    HOST_LENGTH_ERROR = 0x11  # ... with a bad Len
    COMMAND_ERROR = 0x21  # 接收业务终端命令错误: bad values or logic
    UNAUTHORISED_OPERATION = 0x23  # 越权操作
    UNRECOGNISED_ERROR = 0x24  # 无法识别的错误
    CARD_REJECTED_SAM = 0x31  # 证/卡认证SAM_V失败
    SAM_REJECTED_CARD = 0x32  # SAM_V认证证/卡失败
    VERIFICATION_FAILED = 0x33  # 信息验证错误
    UNKNOWN_CARD_TYPE = 0x40  # 无法识别的证卡类型
    READ_FAILED = 0x41  # 读证/卡操作失败
    RANDOM_NUMBER_FAILED = 0x47  # 取随机数失败
    SELF_TEST_FAILED = 0x60  # SAM_V 自检失败, accepts no commands
    SAM_NOT_AUTHORISED = 0x66  # SAM_V 未经授权
    NO_CARD = 0x80  # 寻找证/卡失败: the normal "nothing on the reader" answer
    SELECT_FAILED = 0x81  # 选取证/卡失败


_KNOWN = frozenset(int(code) for code in StatusCode)


@dataclass(frozen=True, slots=True)
class UnknownStatus:
    """An SW3 value no source documents, kept as received."""

    code: int

    def __post_init__(self) -> None:
        if not 0 <= self.code <= 0xFF:
            raise UsageError(f"SW3 {self.code} is not a byte")
        if self.code in _KNOWN:
            # One value, one representation: equality must not depend on the path.
            raise UsageError(f"SW3 0x{self.code:02X} is {StatusCode(self.code).name}, not unknown")


Status = StatusCode | UnknownStatus


def decode_status(sw3: int) -> Status:
    if sw3 in _KNOWN:
        return StatusCode(sw3)
    return UnknownStatus(sw3)


def status_byte(status: Status) -> int:
    return status.code if isinstance(status, UnknownStatus) else int(status)
