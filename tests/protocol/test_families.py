"""The registry's numbers are the codecs': every bound is the last value the
family's codec accepts, and the next one is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from protocol import UsageError
from protocol import reference_board as rb
from protocol import relay_module as rm
from protocol.families import (
    FAMILIES,
    KERONG_CU16,
    KERONG_CU48,
    REFERENCE,
    RELAY,
    Bounds,
    Capability,
    Framing,
    unit_span,
)
from protocol.kerong import cu16, cu48, frame
from protocol.modbus import encode_request


def edge(accepts: Callable[[int], object], bounds: Bounds) -> None:
    """`accepts` takes both ends of `bounds` and refuses one past the top."""
    accepts(bounds.low)
    accepts(bounds.high)
    with pytest.raises(UsageError):
        accepts(bounds.high + 1)


def test_reference_bounds_are_the_register_maps() -> None:
    assert REFERENCE.pulse_ms is not None
    edge(lambda ms: rb.unlock_request(1, 1, ms), REFERENCE.pulse_ms)
    edge(rb.status_request, REFERENCE.channels)
    edge(rb.set_unit_address_request, REFERENCE.units)


def test_relay_bounds_are_the_modules() -> None:
    assert RELAY.pulse_ms is not None
    edge(lambda ms: rm.pulse_request(1, 1, ms), RELAY.pulse_ms)
    edge(lambda n: rm.pulse_request(1, n, 100), RELAY.channels)
    edge(rm.set_unit_address_request, RELAY.units)


def test_kerong_bounds_are_the_frames() -> None:
    edge(lambda lock: cu16.address(0, lock), KERONG_CU16.channels)
    edge(cu48.lock_byte, KERONG_CU48.channels)
    for family in (KERONG_CU16, KERONG_CU48):
        assert family.framing is Framing.KERONG
        assert family.serial_format == frame.FACTORY_FORMAT
        assert family.reply_allowance == frame.REPLY_ALLOWANCE_S
    edge(cu16.status_request, KERONG_CU16.units)  # the high nibble of ADDR
    edge(cu48.status_reader, KERONG_CU48.units)  # 0x0A is the broadcast address
    assert KERONG_CU16.firmware == tuple(v.value for v in cu16.Variant)
    assert KERONG_CU48.firmware == tuple(v.value for v in cu48.Variant)


def test_modbus_families_take_every_unit_a_request_can_carry() -> None:
    for family in FAMILIES.values():
        if family.framing is Framing.MODBUS:
            encode_request(family.units.high, rb.identity_request())


def test_what_a_channel_senses() -> None:
    assert REFERENCE.sensors() == {
        Capability.DOOR_SWITCH,
        Capability.ITEM_SENSOR,
        Capability.LOCK_FEEDBACK,
    }
    assert KERONG_CU48.sensors() == {Capability.DOOR_SWITCH}


def test_the_unit_span_covers_every_family() -> None:
    assert str(unit_span()) == "0..247"
    assert all(
        f.units.low in unit_span() and f.units.high in unit_span() for f in FAMILIES.values()
    )


def test_an_entry_that_contradicts_itself_is_refused() -> None:
    with pytest.raises(UsageError):
        replace(REFERENCE, default_channels=49)
    with pytest.raises(UsageError):
        replace(REFERENCE, default_unlock_ms=500)
