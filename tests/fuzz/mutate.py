"""Byte mutations in the style of libFuzzer's: flip, insert, delete, splice, truncate, prefix.

Pure byte soup rarely gets past a CRC or a checksum; mutating a valid frame does,
which is where length and byte-count bugs live (shared notes 4.5: libmodbus and
pymodbus CVEs trusted a length field).
"""

from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    data = bytearray(valid)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(
            st.sampled_from(
                ["flip", "set", "insert", "delete", "truncate", "prefix", "suffix", "duplicate"]
            )
        )
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        match kind:
            case "flip" if data:
                data[position] ^= 1 << draw(st.integers(0, 7))
            case "set" if data:
                data[position] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, 0xAA, 0x96]))
            case "insert":
                data[position:position] = draw(st.binary(min_size=1, max_size=8))
            case "delete" if data:
                del data[position : position + draw(st.integers(1, 4))]
            case "truncate":
                del data[position:]
            case "prefix":
                data[0:0] = draw(st.binary(min_size=1, max_size=16))
            case "suffix":
                data += draw(st.binary(min_size=1, max_size=16))
            case "duplicate":
                data += data[position:]
    return bytes(data)
