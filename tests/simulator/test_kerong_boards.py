"""The Kerong board models, frame by frame (pure: no pty, made-up times), and
the layout keys that select them."""

from __future__ import annotations

import random

import pytest

from protocol import BusFault, FaultKind
from protocol.kerong import cu16, cu48, read_frame
from simulator.boards import KerongCu16, KerongCu48
from simulator.dialects import DIALECTS
from simulator.faults import FaultProfile, mangle
from simulator.layout import LayoutError, parse_layout
from simulator.physics import Compartment, Size


def compartments(n: int) -> list[Compartment | None]:
    return [Compartment(f"A{i:02d}", Size.S) for i in range(1, n + 1)]


def test_cu16_status_and_unlock_for_its_unlock_time() -> None:
    wiring = compartments(3)
    board = KerongCu16(2, wiring, unlock_ms=400, variant=cu16.Variant.UNLOCK_ANSWERED)
    status = read_frame(cu16.status_reader(2), board.on_request(cu16.status_request(2), 1.0) or b"")
    assert status == cu16.Status(2, (True,) * 3 + (False,) * 13, (False,) * 16)
    by_0x32 = board.on_request(cu16.status_request(2, cu16.Command.STATUS_ALL), 1.0)
    assert read_frame(cu16.status_reader(2), by_0x32 or b"") == status
    reply = board.on_request(cu16.unlock_request(2, 2), 1.0)
    assert reply is not None and reply[1] == 0x21  # the request's address, echoed
    assert wiring[1] is not None and wiring[1].energised
    board.tick(1.399)
    assert wiring[1].energised
    board.tick(1.4)
    assert not wiring[1].energised
    assert board.on_request(cu16.status_request(3), 2.0) is None  # another board's
    assert board.on_request(cu16.seal_request(0x20, 0x37), 2.0) is None  # not modelled


def test_cu16_by_default_does_not_answer_an_unlock() -> None:
    # kerong-lib (suryavirkapur/kerong-lib README): "Unlock 0x31 ... Response: none".
    wiring = compartments(2)
    board = KerongCu16(0, wiring)
    assert board.variant is cu16.Variant.UNLOCK_SILENT
    assert board.on_request(cu16.unlock_request(0, 2), 0.0) is None
    assert board.on_request(cu16.unlock_all_request(0), 0.0) is None
    assert wiring[1] is not None and wiring[1].energised


def test_cu16_reports_items_and_open_doors() -> None:
    wiring = compartments(2)
    board = KerongCu16(0, wiring)
    first = wiring[0]
    assert first is not None
    first.force_door(0.0)
    first.put_item(0.0)
    status = read_frame(cu16.status_reader(0), board.on_request(cu16.status_request(0), 1.0) or b"")
    assert isinstance(status, cu16.Status)
    assert status.hooks[:2] == (False, True) and status.items[:2] == (True, False)


def test_cu48_unlock_gets_no_reply_and_broadcast_reaches_every_board() -> None:
    left, right = compartments(2), compartments(2)
    boards = [KerongCu48(0, left, unlock_ms=200), KerongCu48(1, right, unlock_ms=200)]
    assert boards[0].on_request(cu48.unlock_request(0, 2), 0.0) is None
    assert [c is not None and c.energised for c in left] == [False, True]
    for board in boards:
        assert board.on_request(cu48.unlock_all_request(cu48.BROADCAST), 1.0) is None
        assert board.on_request(cu48.status_request(cu48.BROADCAST), 1.0) is None
    assert all(c is not None and c.energised for c in left + right)
    reply = boards[1].on_request(cu48.status_request(1), 1.05)
    status = read_frame(cu48.status_reader(1), reply or b"")
    assert isinstance(status, cu48.Status) and status.hooks[:3] == (True, True, False)


def test_cu48_variant_answers_only_its_own_commands() -> None:
    board = KerongCu48(4, compartments(2), variant=cu48.Variant.ALT_60)
    assert board.on_request(cu48.status_request(4), 0.0) is None  # V2.1's command
    alt = cu48.Variant.ALT_60
    status = read_frame(
        cu48.status_reader(4, alt), board.on_request(cu48.status_request(4, alt), 0.0) or b""
    )
    assert isinstance(status, cu48.Status)
    ack = board.on_request(cu48.unlock_request(4, 1, alt), 0.0)
    assert read_frame(cu48.unlock_reader(4, 1), ack or b"") == cu48.UnlockAccepted(4, 1)
    refused = read_frame(
        cu48.unlock_reader(4, 9), board.on_request(cu48.unlock_request(4, 9, alt), 0.0) or b""
    )
    assert isinstance(refused, BusFault) and refused.kind is FaultKind.EXCEPTION_REPLY


def test_power_up_switches_every_lock_off() -> None:
    wiring = compartments(2)
    board = KerongCu48(0, wiring)
    board.on_request(cu48.unlock_all_request(0), 0.0)
    board.power_up(0.1)
    assert not any(c is not None and c.energised for c in wiring)
    assert board.next_deadline() is None


@pytest.mark.parametrize("seed", range(20))
def test_a_wrong_unit_fault_is_a_well_formed_reply_from_another_board(seed: int) -> None:
    profile = FaultProfile(wrong_unit=1.0)
    kerong = DIALECTS["kerong"]
    for reply, reader in (
        (
            cu16.encode_status(cu16.Status(3, (True,) * 16, (False,) * 16), 0x35),
            cu16.status_reader(3),
        ),
        (cu48.encode_status(cu48.Status(3, (True,) * 48)), cu48.status_reader(3)),
    ):
        mangled = mangle(reply, profile, random.Random(seed), kerong.readdress)
        assert mangled.frame is not None and mangled.kinds == ("wrong_unit",)
        fault = read_frame(reader, mangled.frame)
        assert isinstance(fault, BusFault) and fault.kind is FaultKind.WRONG_UNIT, fault


def test_the_line_describes_kerong_frames() -> None:
    kerong = DIALECTS["kerong"]
    described = kerong.describe(cu16.unlock_request(2, 5))
    assert not isinstance(described, str) and (described.unit, described.function) == (2, 0x31)
    broadcast = kerong.describe(cu48.unlock_all_request(cu48.BROADCAST))
    assert not isinstance(broadcast, str) and broadcast.broadcast
    assert kerong.describe(b"\x01\x04\x00\x00\x00\x01\x31\xca") == "not_a_frame"  # Modbus


@pytest.mark.parametrize(
    ("boards", "problem"),
    [
        (
            [{"family": "kerong_cu16", "unit": 0}, {"family": "reference", "unit": 1}],
            "buses[0].boards[1].family: reference boards cannot share a bus with kerong_cu16",
        ),
        ([{"family": "kerong_cu48", "unit": 10}], "buses[0].boards[0].unit: 10 is outside 0..9"),
        ([{"family": "kerong_cu16", "unit": 16}], "buses[0].boards[0].unit: 16 is outside 0..15"),
        ([{"family": "kerong_cu16", "unit": 0, "channels": 17}], "channels: 17 is outside 1..16"),
        ([{"family": "kerong_cu16", "unit": 0, "firmware": "alt-0x60"}], "not a firmware of"),
        ([{"family": "kerong_cu48", "unit": 0, "firmware": "unlock-silent"}], "not a firmware of"),
        ([{"family": "reference", "unit": 1, "unlock_ms": 300}], "only Kerong boards have it"),
    ],
)
def test_layout_errors_name_the_key(boards: list[dict[str, object]], problem: str) -> None:
    with pytest.raises(LayoutError) as caught:
        parse_layout({"buses": [{"boards": boards}]})
    assert problem in str(caught.value)


def test_a_kerong_layout_wires_one_compartment_per_lock() -> None:
    layout = parse_layout(
        {
            "buses": [
                {"format": "8N1", "boards": [{"family": "kerong_cu48", "unit": 0, "channels": 4}]}
            ]
        }
    )
    assert [(c.lock.unit, c.lock.channel) for c in layout.compartments] == [
        (0, n) for n in range(1, 5)
    ]
    assert layout.buses[0].dialect == "kerong"
    assert all(c.door is None and c.item is None for c in layout.compartments)
