"""CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), sent low byte first.

Modbus over Serial Line V1.02, section 2.5.1.2 and appendix B: the CRC is
appended low-order byte first, which is the opposite of every other 16-bit
field in the protocol.
"""

from __future__ import annotations


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc16(data: bytes | bytearray | memoryview) -> int:
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    crc = crc16(body)
    return body + bytes((crc & 0xFF, crc >> 8))


def crc_ok(frame: bytes | bytearray | memoryview) -> bool:
    # Running the CRC over a frame that ends with its own CRC yields zero.
    return len(frame) >= 4 and crc16(frame) == 0
