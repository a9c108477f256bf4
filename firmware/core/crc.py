"""CRC-16/MODBUS (reflected poly 0xA001, init 0xFFFF) over a buffer range.

Modbus over Serial Line V1.02, 6.2.2: the table-driven form with the table
split into a low-byte and a high-byte half (512 bytes of bytearray, built
once at import), so that a frame's CRC costs two table reads per byte and
allocates nothing. Running it over a frame that ends with its own CRC
(sent low byte first, 2.5.1.2) yields 0.
"""


def _tables() -> "tuple[bytearray, bytearray]":
    low = bytearray(256)
    high = bytearray(256)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        low[byte] = crc & 0xFF
        high[byte] = crc >> 8
    return low, high


_LOW, _HIGH = _tables()


def crc16(buf: bytearray, start: int, end: int) -> int:
    low = 0xFF
    high = 0xFF
    for i in range(start, end):
        index = low ^ buf[i]
        low = high ^ _LOW[index]
        high = _HIGH[index]
    return high << 8 | low


def append_crc(buf: bytearray, length: int) -> int:
    """Append the CRC of buf[0:length] (low byte first); the new length."""
    crc = crc16(buf, 0, length)
    buf[length] = crc & 0xFF
    buf[length + 1] = crc >> 8
    return length + 2
