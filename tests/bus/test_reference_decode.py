"""The reference driver's fast status decoding (state tables, int bit fields,
the last reading reused) against the plain reading of the contract:
`rb.parse_status` channel by channel through `channel_state`. Pure."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from locker_host.bus import ReferenceBoardConfig
from locker_host.bus.drivers import Exchange, Reading, ReferenceDriver
from locker_host.bus.drivers.reference import channel_state, state_table
from protocol import BusFault
from protocol import reference_board as rb
from protocol.modbus import FunctionCode, RegistersReply, WriteEcho

CAPS = rb.Capabilities
FC04 = FunctionCode.READ_INPUT_REGISTERS
UNIT = 3

capabilities = st.integers(0, 7).map(CAPS)


def probe(driver: ReferenceDriver, channels: int, caps: rb.Capabilities) -> None:
    ident = rb.Identity(1, channels, (1, 0), 0x5301, 0x51000003, caps)
    reply = RegistersReply(FC04, rb.encode_identity(ident))
    assert driver.check_startup(driver.startup()[0], reply) is None


def reference_reading(
    registers: tuple[int, ...], channels: int, caps: rb.Capabilities
) -> Reading | BusFault:
    """What the registers mean, read the slow and obvious way."""
    status = rb.parse_status(RegistersReply(FC04, registers), channels)
    if isinstance(status, BusFault):
        return status
    restarted = bool(status.flags & rb.StatusFlags.RESET)
    news = restarted or any(c.opened_since_ack and c.door_closed for c in status.channels)
    ack = Exchange(UNIT, rb.ack_request(status.change_counter)) if news else None
    states = tuple(channel_state(n, c, caps) for n, c in enumerate(status.channels, 1))
    return Reading(states, restarted, status.change_counter, ack)


def blocks(channels: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Any 16-bit values: flag bits the contract does not define, bits past
    the last channel, every combination of the four fields."""
    count = rb.status_register_count(channels)
    return st.lists(st.integers(0, 0xFFFF), min_size=count, max_size=count).map(tuple)


@st.composite
def runs(
    draw: st.DrawFn,
) -> tuple[int, list[tuple[rb.Capabilities, tuple[int, ...]]]]:
    """A board's channel count and a run of (capabilities, status block) polls,
    with repeats, as a driver meets them (re-probes may change capabilities)."""
    channels = draw(st.integers(1, rb.MAX_CHANNELS))
    pool = draw(st.lists(blocks(channels), min_size=1, max_size=4))
    caps = draw(st.lists(capabilities, min_size=1, max_size=2))
    polls = draw(
        st.lists(st.tuples(st.sampled_from(caps), st.sampled_from(pool)), min_size=1, max_size=8)
    )
    return channels, polls


@settings(deadline=None)  # a change of capabilities rebuilds up to 48 x 16 states: a loaded CI box
@given(runs())
def test_every_status_block_decodes_as_the_contract_says(
    run: tuple[int, list[tuple[rb.Capabilities, tuple[int, ...]]]],
) -> None:
    channels, polls = run
    driver = ReferenceDriver("bus0", ReferenceBoardConfig(UNIT, channels))
    for caps, registers in polls:
        probe(driver, channels, caps)
        got = driver.decode((RegistersReply(FC04, registers),))
        assert got == reference_reading(registers, channels, caps)


@given(st.integers(1, rb.MAX_CHANNELS), capabilities)
def test_the_table_holds_channel_state_for_all_sixteen_bit_patterns(
    channels: int, caps: rb.Capabilities
) -> None:
    table = state_table(channels, caps)
    assert len(table) == channels
    for number, states in enumerate(table, 1):
        for bits, state in enumerate(states):
            status = rb.ChannelStatus(*(bool(bits >> k & 1) for k in range(4)))
            assert state == channel_state(number, status, caps)


@given(st.integers(1, rb.MAX_CHANNELS), st.integers(0, 2))
def test_a_reply_of_the_wrong_shape_is_the_protocol_fault(channels: int, shape: int) -> None:
    driver = ReferenceDriver("bus0", ReferenceBoardConfig(UNIT, channels))
    count = rb.status_register_count(channels)
    replies = (
        RegistersReply(FC04, (0,) * (count - 1)),
        RegistersReply(FC04, (0,) * (count + 1)),
        WriteEcho(FunctionCode.WRITE_SINGLE_REGISTER, rb.HR_ACK, 0),
    )
    reply = replies[shape]
    got = driver.decode((reply,))
    assert isinstance(got, BusFault)
    assert got == rb.parse_status(reply, channels)


def test_a_block_seen_again_after_another_decodes_afresh() -> None:
    driver = ReferenceDriver("bus0", ReferenceBoardConfig(UNIT, 2))
    closed = rb.ChannelStatus(True, False, False, False)
    latched = rb.ChannelStatus(True, False, False, True)
    quiet = rb.encode_status(rb.BoardStatus(rb.StatusFlags(0), 5, (closed, closed)))
    moved = rb.encode_status(rb.BoardStatus(rb.StatusFlags(0), 6, (latched, closed)))
    readings = [driver.decode((RegistersReply(FC04, r),)) for r in (quiet, moved, moved, quiet)]
    assert [r.acknowledge is not None for r in readings if isinstance(r, Reading)] == [
        False,
        True,
        True,
        False,
    ]
    assert readings[1] == readings[2]
    assert readings[0] == readings[3] != readings[1]


def test_identity_tells_a_watchdog_reset_and_factory_settings() -> None:
    driver = ReferenceDriver("bus0", ReferenceBoardConfig(UNIT, 8))
    probe(driver, 8, CAPS(7))
    plain = driver.identity
    count = rb.status_register_count(8)

    def poll(flags: rb.StatusFlags, counter: int) -> None:
        registers = (int(flags), counter, *([0] * (count - 2)))
        assert isinstance(driver.decode((RegistersReply(FC04, registers),)), Reading)

    poll(rb.StatusFlags.RESET | rb.StatusFlags.WATCHDOG, 0)
    assert driver.identity == f"{plain}; last reset by its watchdog"
    poll(rb.StatusFlags(0), 1)  # acknowledged: the board cleared the flag, the note stays
    assert driver.identity == f"{plain}; last reset by its watchdog"
    poll(rb.StatusFlags.RESET | rb.StatusFlags.FACTORY_DEFAULTS, 0)  # powered up again
    assert driver.identity == f"{plain}; running on factory settings"
    poll(rb.StatusFlags(0), 1)  # a setting was written: the board saved it
    assert driver.identity == plain
