"""The Waveshare-style relay + input module model."""

from __future__ import annotations

import pytest

from protocol import relay_module as rm
from protocol.errors import BusFault, FaultKind
from protocol.modbus import (
    BitsReply,
    ExceptionCode,
    ReadCoils,
    ReadDiscreteInputs,
    ReadHoldingRegisters,
    ReadInputRegisters,
    RegistersReply,
    WriteEcho,
    WriteSingleCoil,
    WriteSingleRegister,
)
from simulator.boards import RelayModule
from simulator.boards.relay import FIRMWARE, InputWire
from simulator.physics import Compartment, Size

from .helpers import answer, ask


@pytest.fixture
def comps() -> list[Compartment]:
    return [Compartment(f"E{i:02d}", Size.L) for i in range(1, 5)]


@pytest.fixture
def module(comps: list[Compartment]) -> RelayModule:
    # relays 1-4 drive the locks; inputs 1-4 the doors, 5-8 the item sensors
    locks: list[Compartment | None] = [*comps, None, None, None, None]
    inputs: list[InputWire | None] = [InputWire(c, "door") for c in comps]
    inputs += [InputWire(c, "item") for c in comps]
    return RelayModule(1, locks, inputs, now=0.0)


def code(reply: object) -> int | None:
    assert isinstance(reply, BusFault) and reply.kind == FaultKind.EXCEPTION_REPLY, reply
    return reply.exception_code


def test_inputs_are_raw_levels(module: RelayModule, comps: list[Compartment]) -> None:
    comps[1].force_door(0.0)
    comps[1].put_item(0.0)
    reply = rm.parse_bits(answer(module, rm.inputs_request(8)), 8)
    assert isinstance(reply, rm.InputStates)
    assert reply.bits == (True, False, True, True, False, True, False, False)


def test_coil_on_and_off_drive_the_lock(module: RelayModule, comps: list[Compartment]) -> None:
    assert isinstance(ask(module, WriteSingleCoil(2, 0xFF00)), WriteEcho)
    assert comps[2].released
    reply = ask(module, rm.relays_request(8))
    assert isinstance(reply, BitsReply) and reply.bits[2] and sum(reply.bits) == 1
    ask(module, WriteSingleCoil(2, 0x0000))
    assert not comps[2].released


def test_flash_on_is_a_module_timed_pulse_in_100ms_steps(
    module: RelayModule, comps: list[Compartment]
) -> None:
    request = rm.pulse_request(1, 8, 250)  # rounds up to 3 steps
    assert request.value == 3
    assert isinstance(ask(module, request, now=1.0), WriteEcho)
    assert comps[0].released
    assert module.next_deadline() == pytest.approx(1.3)
    module.tick(1.29)
    assert comps[0].released
    module.tick(1.3)
    assert not comps[0].released and module.next_deadline() is None


def test_flash_off_turns_the_relay_back_on(module: RelayModule, comps: list[Compartment]) -> None:
    ask(module, WriteSingleCoil(3, 0xFF00))
    ask(module, WriteSingleCoil(rm.FLASH_OFF_BASE + 3, 2, raw=True), now=2.0)
    assert not comps[3].released
    module.tick(2.2)
    assert comps[3].released


def test_all_relays_off(module: RelayModule, comps: list[Compartment]) -> None:
    ask(module, WriteSingleCoil(rm.ALL_RELAYS, 0xFF00))
    assert all(c.released for c in comps)
    assert isinstance(ask(module, rm.all_relays_off_request()), WriteEcho)
    assert not any(c.released for c in comps) and not any(module.relays)


def test_holding_registers(module: RelayModule) -> None:
    assert ask(module, rm.firmware_request()) == RegistersReply(
        ReadHoldingRegisters.function, (FIRMWARE,)
    )
    reply = ask(module, ReadHoldingRegisters(rm.HR_UNIT_ADDRESS, 1))
    assert isinstance(reply, RegistersReply) and reply.registers == (1,)


def test_a_new_address_is_used_from_the_next_power_up(module: RelayModule) -> None:
    assert ask(module, rm.set_unit_address_request(9), unit=0) is None  # broadcast, no reply
    assert module.unit == 1 and module.stored_unit == 9
    module.power_up(1.0)
    assert module.unit == 9
    assert isinstance(ask(module, rm.firmware_request(), unit=9), RegistersReply)


def test_power_up_turns_every_relay_off(module: RelayModule, comps: list[Compartment]) -> None:
    ask(module, rm.pulse_request(1, 8, 5000))
    module.power_up(1.0)
    assert not comps[0].energised and module.next_deadline() is None


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (ReadInputRegisters(0, 1), ExceptionCode.ILLEGAL_FUNCTION),
        (ReadCoils(0, 9), ExceptionCode.ILLEGAL_DATA_ADDRESS),
        (ReadDiscreteInputs(7, 2), ExceptionCode.ILLEGAL_DATA_ADDRESS),
        (ReadHoldingRegisters(0x2000, 1), ExceptionCode.ILLEGAL_DATA_ADDRESS),
        (ReadHoldingRegisters(rm.HR_FIRMWARE, 2), ExceptionCode.ILLEGAL_DATA_ADDRESS),
        (WriteSingleRegister(0x1000, 1), ExceptionCode.ILLEGAL_DATA_ADDRESS),
        (WriteSingleRegister(rm.HR_UNIT_ADDRESS, 0), ExceptionCode.ILLEGAL_DATA_VALUE),
        (WriteSingleCoil(0, 0x1234, raw=True), ExceptionCode.ILLEGAL_DATA_VALUE),
        (WriteSingleCoil(rm.FLASH_ON_BASE, 0, raw=True), ExceptionCode.ILLEGAL_DATA_VALUE),
        (WriteSingleCoil(rm.FLASH_ON_BASE, 0x8000, raw=True), ExceptionCode.ILLEGAL_DATA_VALUE),
        (WriteSingleCoil(rm.FLASH_ON_BASE + 8, 1, raw=True), ExceptionCode.ILLEGAL_DATA_ADDRESS),
        (WriteSingleCoil(0x0100, 0xFF00), ExceptionCode.ILLEGAL_DATA_ADDRESS),
    ],
)
def test_exceptions(module: RelayModule, request_: object, expected: ExceptionCode) -> None:
    assert code(ask(module, request_)) == expected  # type: ignore[arg-type]


def test_a_broadcast_pulse_is_executed_silently(
    module: RelayModule, comps: list[Compartment]
) -> None:
    assert ask(module, rm.pulse_request(2, 8, 100), unit=0, now=0.0) is None
    assert comps[1].released
