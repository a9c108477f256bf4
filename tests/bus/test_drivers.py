"""The drivers' decoding of replies into channel states, polarity included,
and the requests they send. Pure: no port, no clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker_host.bus import (
    DoorState,
    InputRef,
    ItemState,
    ReferenceBoardConfig,
    RelayBoardConfig,
    RelayChannelConfig,
    SensorPolarity,
)
from locker_host.bus.drivers import ReferenceDriver, RelayDriver, StartupKind
from locker_host.bus.drivers.reference import board_polarity
from protocol import BusFault, FaultKind
from protocol import reference_board as rb
from protocol import relay_module as rm
from protocol.modbus import (
    BitsReply,
    FunctionCode,
    ReadDiscreteInputs,
    RegistersReply,
    WriteEcho,
    WriteMultipleRegisters,
    decode_reply,
    encode_reply,
)

CAPS = rb.Capabilities
ALL_CAPS = CAPS.DOOR_SWITCH | CAPS.ITEM_SENSOR | CAPS.LOCK_FEEDBACK


def identity(channels: int, caps: rb.Capabilities = ALL_CAPS) -> RegistersReply:
    ident = rb.Identity(1, channels, (1, 2), 0x5301, 0x51000001, caps)
    return RegistersReply(FunctionCode.READ_INPUT_REGISTERS, rb.encode_identity(ident))


def started_reference(channels: int, caps: rb.Capabilities = ALL_CAPS) -> ReferenceDriver:
    driver = ReferenceDriver("bus0", ReferenceBoardConfig(1, channels))
    probe = driver.startup()[0]
    assert driver.check_startup(probe, identity(channels, caps)) is None
    return driver


statuses = st.integers(1, rb.MAX_CHANNELS).flatmap(
    lambda n: st.builds(
        rb.BoardStatus,
        flags=st.sampled_from(list(rb.StatusFlags)) | st.just(rb.StatusFlags(0)),
        change_counter=st.integers(0, 0xFFFF),
        channels=st.lists(
            st.builds(rb.ChannelStatus, st.booleans(), st.booleans(), st.booleans(), st.booleans()),
            min_size=n,
            max_size=n,
        ).map(tuple),
    )
)
capabilities = st.sets(st.sampled_from(list(CAPS))).map(lambda s: CAPS(sum(int(c) for c in s)))


@given(statuses, capabilities)
def test_reference_status_decodes_channel_by_channel(
    status: rb.BoardStatus, caps: rb.Capabilities
) -> None:
    channels = len(status.channels)
    driver = started_reference(channels, caps)
    (poll,) = driver.poll()
    # through the wire and back, as the owner would see it
    frame = encode_reply(1, RegistersReply(poll.request.function, rb.encode_status(status)))
    reply = decode_reply(1, poll.request, frame)
    assert not isinstance(reply, BusFault)
    reading = driver.decode((reply,))
    assert not isinstance(reading, BusFault)
    assert reading.restarted == bool(status.flags & rb.StatusFlags.RESET)
    for n, (got, raw) in enumerate(zip(reading.channels, status.channels, strict=True), 1):
        assert got.channel == n
        if caps & CAPS.DOOR_SWITCH:
            assert got.door is (DoorState.CLOSED if raw.door_closed else DoorState.OPEN)
        else:
            assert got.door is DoorState.NO_SENSOR
        if caps & CAPS.ITEM_SENSOR:
            assert got.item is (ItemState.PRESENT if raw.item_present else ItemState.ABSENT)
        else:
            assert got.item is ItemState.NO_SENSOR
        assert got.lock_fault == (raw.lock_fault if caps & CAPS.LOCK_FEEDBACK else None)
        assert got.opened_since_last_poll is raw.opened_since_ack
    news = bool(status.flags & rb.StatusFlags.RESET) or any(
        c.opened_since_ack and c.door_closed for c in status.channels
    )
    if news:
        assert reading.acknowledge is not None
        assert reading.acknowledge.request == rb.ack_request(status.change_counter)
    else:
        assert reading.acknowledge is None


def test_a_latch_on_a_door_still_open_is_not_acknowledged() -> None:
    driver = started_reference(2)
    open_now = rb.ChannelStatus(False, False, False, True)
    closed = rb.ChannelStatus(True, False, False, False)
    words = rb.encode_status(rb.BoardStatus(rb.StatusFlags(0), 7, (open_now, closed)))
    reading = driver.decode((RegistersReply(FunctionCode.READ_INPUT_REGISTERS, words),))
    assert not isinstance(reading, BusFault)
    assert reading.channels[0].door is DoorState.OPEN
    assert reading.channels[0].opened_since_last_poll is True
    assert reading.acknowledge is None


@pytest.mark.parametrize(
    ("polarity", "bits"),
    [
        (SensorPolarity(), 0),
        (SensorPolarity(door_inverted=True), 1),
        (SensorPolarity(item_inverted=True), 2),
        (SensorPolarity(lock_feedback_inverted=True), 4),
        (SensorPolarity(True, True, True), 7),
    ],
)
def test_reference_polarity_is_written_to_the_board(polarity: SensorPolarity, bits: int) -> None:
    assert board_polarity(polarity) == rb.Polarity(bits)
    driver = ReferenceDriver("bus0", ReferenceBoardConfig(1, 8, pulse_ms=700, polarity=polarity))
    steps = {step.kind: step.exchange.request for step in driver.startup()}
    assert steps[StartupKind.CONFIGURE] == WriteMultipleRegisters(0, (700, bits))
    assert steps[StartupKind.OUTPUTS_OFF] == rb.all_outputs_off_request()
    assert steps[StartupKind.PROBE] == rb.identity_request()


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (identity(16), "16 channels, the configuration says 24"),
        (RegistersReply(FunctionCode.READ_INPUT_REGISTERS, (0,) * 8), "not a reference board"),
    ],
)
def test_reference_probe_refuses_a_board_that_is_not_the_configured_one(
    reply: RegistersReply, words: str
) -> None:
    driver = ReferenceDriver("bus0", ReferenceBoardConfig(1, 24))
    fault = driver.check_startup(driver.startup()[0], reply)
    assert isinstance(fault, BusFault) and fault.kind is FaultKind.MISMATCH
    assert words in str(fault)


def test_reference_unlock_uses_the_configured_pulse_unless_told() -> None:
    driver = ReferenceDriver("bus0", ReferenceBoardConfig(4, 24, pulse_ms=600))
    assert driver.unlock(7, None).request == rb.unlock_request(7, 24, 0)
    assert driver.unlock(7, 300).request == rb.unlock_request(7, 24, 300)
    assert driver.unlock(7, None).unit == 4


# -- relay modules ------------------------------------------------------------------

WIRING = RelayBoardConfig(
    3,
    (
        RelayChannelConfig(door=InputRef(4, 1), item=InputRef(4, 5)),
        RelayChannelConfig(door=InputRef(4, 2), item=InputRef(4, 6)),
        RelayChannelConfig(door=InputRef(3, 3)),
        RelayChannelConfig(),
    ),
)


def relay(polarity: SensorPolarity) -> RelayDriver:
    return RelayDriver("bus0", RelayBoardConfig(WIRING.unit, WIRING.channels, polarity=polarity))


@given(
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.booleans(),
    st.booleans(),
)
def test_relay_inputs_decode_with_host_side_polarity(
    own: list[bool], other: list[bool], door_inverted: bool, item_inverted: bool
) -> None:
    driver = relay(SensorPolarity(door_inverted=door_inverted, item_inverted=item_inverted))
    polls = driver.poll()
    assert [(e.unit, e.request) for e in polls] == [
        (3, ReadDiscreteInputs(0, 3)),
        (4, ReadDiscreteInputs(0, 6)),
    ]
    fc = FunctionCode.READ_DISCRETE_INPUTS
    reading = driver.decode((BitsReply(fc, tuple(own)), BitsReply(fc, tuple(other))))
    assert not isinstance(reading, BusFault)

    def door(level: bool) -> DoorState:
        return DoorState.CLOSED if level != door_inverted else DoorState.OPEN

    def item(level: bool) -> ItemState:
        return ItemState.PRESENT if level != item_inverted else ItemState.ABSENT

    one, two, three, four = reading.channels
    assert (one.door, one.item) == (door(other[0]), item(other[4]))
    assert (two.door, two.item) == (door(other[1]), item(other[5]))
    assert (three.door, three.item) == (door(own[2]), ItemState.NO_SENSOR)
    assert (four.door, four.item) == (DoorState.NO_SENSOR, ItemState.NO_SENSOR)
    for channel in reading.channels:
        assert channel.lock_fault is None  # no lock feedback on a relay
        assert channel.opened_since_last_poll is None  # no latches: say so
    assert reading.acknowledge is None


@pytest.mark.parametrize(
    ("door_inverted", "level", "state"),
    [
        (False, True, DoorState.CLOSED),
        (False, False, DoorState.OPEN),
        (True, True, DoorState.OPEN),
        (True, False, DoorState.CLOSED),
    ],
)
def test_relay_door_polarity_table(door_inverted: bool, level: bool, state: DoorState) -> None:
    driver = RelayDriver(
        "bus0",
        RelayBoardConfig.self_wired(3, 1, polarity=SensorPolarity(door_inverted=door_inverted)),
    )
    reading = driver.decode((BitsReply(FunctionCode.READ_DISCRETE_INPUTS, (level,)),))
    assert not isinstance(reading, BusFault)
    assert reading.channels[0].door is state


def test_relay_reply_of_the_wrong_size_is_a_fault() -> None:
    driver = relay(SensorPolarity())
    fc = FunctionCode.READ_DISCRETE_INPUTS
    fault = driver.decode((BitsReply(fc, (True,) * 3), BitsReply(fc, (True,) * 2)))
    assert isinstance(fault, BusFault) and fault.kind is FaultKind.MISMATCH


def test_relay_without_sensors_polls_its_relays() -> None:
    driver = RelayDriver("bus0", RelayBoardConfig(5, (RelayChannelConfig(),) * 2))
    (poll,) = driver.poll()
    assert (poll.unit, poll.request) == (5, rm.relays_request(2))
    reading = driver.decode((BitsReply(FunctionCode.READ_COILS, (False, False)),))
    assert not isinstance(reading, BusFault)
    assert [c.door for c in reading.channels] == [DoorState.NO_SENSOR] * 2


def test_relay_startup_and_unlock_requests() -> None:
    driver = relay(SensorPolarity())
    probe, off = driver.startup()
    assert (probe.kind, probe.exchange.request) == (StartupKind.PROBE, rm.firmware_request())
    assert (off.kind, off.exchange.request) == (
        StartupKind.OUTPUTS_OFF,
        rm.all_relays_off_request(),
    )
    fw = RegistersReply(FunctionCode.READ_HOLDING_REGISTERS, (100,))
    assert driver.check_startup(probe, fw) is None
    assert driver.identity.startswith("relay module firmware V1.00")
    echo = WriteEcho(FunctionCode.WRITE_SINGLE_COIL, rm.ALL_RELAYS, 0)
    assert driver.check_startup(off, echo) is None
    # the module's own timer: 500 ms = 5 steps of 100 ms; 250 ms rounds up to 3
    assert driver.unlock(2, None).request == rm.pulse_request(2, 4, 500)
    assert driver.unlock(2, 250).request.value == 3  # type: ignore[union-attr]
