"""Host commands: one frozen class each, and their bytes.

Every command here is a bare CMD Para pair (Len = 00 03). CMD/Para values
are from the SAM_V command table (CSDN/eastcoms table 9, softs.im, libsamv,
hev-idcard-reader, HslCommunication, the CVR-100 driver); each is checked
byte for byte against the documented request frames in
tests/protocol/test_idcard_golden.py.

Left out on purpose: 30 03 (appended address) and 30 05 (card "MID"),
whose replies are not documented well enough to decode, and 61 FF (set
maximum RF frame bytes), the only command with a data byte, which only
hev-idcard-reader sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from .frame import build_frame


@dataclass(frozen=True, slots=True)
class ResetSam:
    """10 FF, 复位SAM_V."""


@dataclass(frozen=True, slots=True)
class CheckSam:
    """11 FF, SAM_V状态检测: answered by SW3 90 alone when the module is fine."""


@dataclass(frozen=True, slots=True)
class ReadSamId:
    """12 FF, 读SAM_V管理信息: the module's 16-byte identity."""


@dataclass(frozen=True, slots=True)
class FindCard:
    """20 01, 寻找证/卡: SW3 9F when a card is in the field, 80 when not."""


@dataclass(frozen=True, slots=True)
class SelectCard:
    """20 02, 选取证/卡: sent after find answered 9F."""


@dataclass(frozen=True, slots=True)
class ReadCard:
    """30 01 (text + photo) or, with fingerprints, 30 10 (text + photo + fingerprints)."""

    with_fingerprints: bool = False


# softs.im is the only source for the Para-to-rate mapping; eastcoms/CSDN
# confirm the set of rates. The reader presumably switches after replying.
BAUD_PARAMETERS: dict[int, int] = {115200: 0x00, 57600: 0x01, 38400: 0x02, 19200: 0x03, 9600: 0x04}


@dataclass(frozen=True, slots=True)
class SetBaudRate:
    """60 0x, set the UART rate (unverified: one source)."""

    baud: int

    def __post_init__(self) -> None:
        if self.baud not in BAUD_PARAMETERS:
            raise UsageError(f"{self.baud} baud is not one of {sorted(BAUD_PARAMETERS)}")


Command = ResetSam | CheckSam | ReadSamId | FindCard | SelectCard | ReadCard | SetBaudRate


def command_code(command: Command) -> tuple[int, int]:
    """(CMD, Para) of a command."""
    match command:
        case ResetSam():
            return 0x10, 0xFF
        case CheckSam():
            return 0x11, 0xFF
        case ReadSamId():
            return 0x12, 0xFF
        case FindCard():
            return 0x20, 0x01
        case SelectCard():
            return 0x20, 0x02
        case ReadCard(with_fingerprints=False):
            return 0x30, 0x01
        case ReadCard(with_fingerprints=True):
            return 0x30, 0x10
        case SetBaudRate(baud=baud):
            return 0x60, BAUD_PARAMETERS[baud]
        case _:
            raise UsageError(f"not an ID-card reader command: {command!r}")


def encode_command(command: Command) -> bytes:
    return build_frame(bytes(command_code(command)))


ALL_COMMANDS: tuple[Command, ...] = (
    ResetSam(),
    CheckSam(),
    ReadSamId(),
    FindCard(),
    SelectCard(),
    ReadCard(),
    ReadCard(with_fingerprints=True),
    *(SetBaudRate(baud) for baud in BAUD_PARAMETERS),
)
