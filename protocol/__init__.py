"""The wire: pure codecs for lock boards and the ID-card reader.

Layout:
    crc              CRC-16/MODBUS
    timing           SerialFormat: character time, t1.5, t3.5, wire time
    errors           ProtocolError (raised on misuse) and BusFault (a value)
    modbus/          Modbus RTU PDUs, master-side ReplyReader, slave-side decode
    reference_board  our lock board's register map, requests and parsers
    relay_module     Waveshare-style relay + digital-input modules
    kerong/          Kerong CU16 / CU48 lock boards (own frames, 8-bit SUM)
    families         the board-family registry: one entry of facts per family
    idcard/          SAM_V second-generation ID-card reader: commands, replies, card text

Nothing here does I/O or reads a clock, and nothing imports from the rest
of the project: bytes in, typed values out.
"""

from .errors import BusFault, FaultKind, FrameError, ProtocolError, UsageError
from .timing import SerialFormat

__all__ = ["BusFault", "FaultKind", "FrameError", "ProtocolError", "SerialFormat", "UsageError"]
