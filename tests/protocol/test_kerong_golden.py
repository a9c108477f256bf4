"""Kerong CU16 / CU48 frames byte for byte.

CU48 vectors are the examples of the vendor document ("CU48 Protocol And
Introduction V2.1", 2020-03-23). CU16 vectors follow the documented frame
format; their check bytes were computed (sum of the bytes before, low byte)
and agree with the examples the community projects print, except the one
known wrong one (`02 10 30 03 3E`, which must be `... 45`).
"""

from __future__ import annotations

import pytest

from protocol import BusFault, FaultKind, UsageError
from protocol.kerong import checksum, cu16, cu48, read_frame


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


@pytest.mark.parametrize(
    ("frame", "wire"),
    [
        (cu16.status_request(0), "02 00 30 03 35"),
        (cu16.unlock_request(0, 2), "02 01 31 03 37"),
        (cu16.unlock_request(0, 1), "02 00 31 03 36"),
        (cu16.unlock_request(0, 16), "02 0F 31 03 45"),
        (cu16.unlock_request(1, 1), "02 10 31 03 46"),
        (cu16.status_request(1), "02 10 30 03 45"),
        (cu16.unlock_all_request(9), "02 90 33 03 C8"),
    ],
)
def test_cu16_requests(frame: bytes, wire: str) -> None:
    assert frame == h(wire)


def test_the_community_checksum_for_board_1_is_wrong_and_a_board_ignores_it() -> None:
    assert checksum(h("02 10 30 03")) == 0x45
    assert cu16.decode_request(h("02 10 30 03 3E")) is None
    assert cu16.decode_request(h("02 10 30 03 45")) == cu16.Request(1, 1, 0x30, 0x10)


def test_cu16_status_reply() -> None:
    # Board 2: locks 1, 2 and 9 locked; items in 1 and 16.
    hooks = tuple(n in (1, 2, 9) for n in range(1, 17))
    items = tuple(n in (1, 16) for n in range(1, 17))
    wire = h("02 20 35 03 01 01 80 03 DF")
    assert checksum(wire[:-1]) == 0xDF
    assert cu16.encode_status(cu16.Status(2, hooks, items)) == wire
    assert read_frame(cu16.status_reader(2), wire) == cu16.Status(2, hooks, items)


def test_cu16_status_by_0x32_as_lkaas_kerong_reads_it() -> None:
    # julio-alv/lkaas-kerong src/kerong/command.rs: `02 00 32 03 37`, a 9-byte reply.
    assert cu16.status_request(0, cu16.Command.STATUS_ALL) == h("02 00 32 03 37")
    assert cu16.status_request(11) == h("02 B0 30 03 E5")  # kerong-lib: boards 0..15
    status = cu16.Status(0, (True,) + (False,) * 15, (False,) * 16)
    for reply in ("02 00 35 01 00 00 00 03 3B", "02 00 36 01 00 00 00 03 3C"):
        assert read_frame(cu16.status_reader(0), h(reply)) == status


def test_cu16_reply_to_an_unlock_carries_the_lock_in_the_low_nibble() -> None:
    status = cu16.Status(0, (False,) * 16, (False,) * 16)
    wire = cu16.encode_status(status, addr=0x05)
    assert wire == h("02 05 35 00 00 00 00 03 3F")
    assert read_frame(cu16.status_reader(0), wire) == status


@pytest.mark.parametrize(
    ("frame", "wire"),
    [
        (cu48.status_request(0), "02 00 00 50 03 55"),
        (cu48.status_request(cu48.BROADCAST), "02 0A 00 50 03 5F"),
        (cu48.unlock_request(0, 1), "02 00 00 51 03 56"),
        (cu48.unlock_all_request(0), "02 00 30 51 03 86"),
        (cu48.unlock_all_request(cu48.BROADCAST), "02 0A 30 51 03 90"),
        (cu48.status_request(0, cu48.Variant.ALT_60), "02 00 00 60 03 65"),
        (cu48.unlock_request(3, 48, cu48.Variant.ALT_60), "02 03 2F 61 03 98"),
    ],
)
def test_cu48_requests_are_the_vendor_examples(frame: bytes, wire: str) -> None:
    assert frame == h(wire)


def test_cu48_status_reply_is_the_vendor_example() -> None:
    wire = h("02 00 00 65 07 00 00 00 00 C0 03 31")
    status = read_frame(cu48.status_reader(0), wire)
    assert isinstance(status, cu48.Status)
    assert [n for n, locked in enumerate(status.hooks, 1) if locked] == [1, 2, 3, 47, 48]
    assert cu48.encode_status(status) == wire


def test_cu48_variant_frames() -> None:
    hooks = tuple(n == 9 for n in range(1, 49))
    status = cu48.encode_status(cu48.Status(1, hooks), cu48.Variant.ALT_60)
    # 18 bytes with ETX, as the captures in test_kerong_captures.py
    assert status == h("02 01 00 75 00 01 00 00 00 00 00 00 00 00 00 00 03 7C")
    assert read_frame(cu48.status_reader(1, cu48.Variant.ALT_60), status) == cu48.Status(1, hooks)
    ack = cu48.encode_unlock_reply(1, 5)
    assert ack == h("02 01 04 75 00 7C")
    assert read_frame(cu48.unlock_reader(1, 5), ack) == cu48.UnlockAccepted(1, 5)
    refused = read_frame(cu48.unlock_reader(1, 5), cu48.encode_unlock_reply(1, 5, accepted=False))
    assert isinstance(refused, BusFault) and refused.kind is FaultKind.EXCEPTION_REPLY


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: cu16.status_request(16), "board address 16"),
        (lambda: cu16.status_request(0, cu16.Command.UNLOCK), "not a status command"),
        (lambda: cu16.unlock_request(0, 17), "lock 17"),
        (lambda: cu48.unlock_request(0, 0), "lock 0"),
        (lambda: cu48.status_request(11), "board address 11"),
        (lambda: cu48.status_reader(cu48.BROADCAST), "board address 10"),
    ],
)
def test_misuse_raises(make, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        make()


def test_a_reply_from_another_board_is_a_wrong_unit_fault() -> None:
    wire = cu48.encode_status(cu48.Status(4, (True,) * 48))
    fault = read_frame(cu48.status_reader(3), wire)
    assert isinstance(fault, BusFault) and fault.kind is FaultKind.WRONG_UNIT


@pytest.mark.parametrize(
    ("received", "kind"),
    [
        (b"", FaultKind.TIMEOUT),
        (h("02 00 00 65 07 00"), FaultKind.TRUNCATED),
        (h("02 00 00 65 07 00 00 00 00 C0 03 32"), FaultKind.BAD_CRC),
        (h("55 AA 13"), FaultKind.NOISE),
    ],
)
def test_what_went_wrong(received: bytes, kind: FaultKind) -> None:
    fault = read_frame(cu48.status_reader(0), received)
    assert isinstance(fault, BusFault) and fault.kind is kind, fault


def test_boards_decode_requests() -> None:
    assert cu48.decode_request(h("02 0A 30 51 03 90")) == cu48.Request(0x0A, 0x30, 0x51)
    assert cu48.decode_request(h("02 0A 30 51 03 91")) is None  # bad sum
    assert cu48.decode_request(h("02 00 30 03 35")) is None  # a CU16 frame
    assert cu16.decode_request(h("02 00 00 50 03 55")) is None  # a CU48 frame
