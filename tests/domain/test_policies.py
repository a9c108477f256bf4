"""Pure policies: code digests and limits, assignment, pulse staggering."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker_host.domain import (
    BoardAddress,
    BoardRef,
    BusId,
    Compartment,
    CompartmentId,
    CompartmentState,
    InvalidPickupCode,
    ItemReading,
    LockerPolicy,
    PowerSupplyId,
    Size,
    code_digests,
    required_code_length,
)
from locker_host.domain.assignment import choose_compartment
from locker_host.domain.compartment import Physical
from locker_host.domain.ids import OwnerKey
from locker_host.domain.pickup_codes import (
    CodeGuard,
    CodePurpose,
    code_matches,
    guess_budget,
    locked_until,
    prune,
    rebase_after_restart,
    record_failure,
    record_success,
)
from locker_host.domain.stagger import PulseSlot, stagger

from .helpers import CODE_KEYS, HIGH, LOW, PROPERTY, config, digest, spec

POLICY = LockerPolicy()

# -- codes -------------------------------------------------------------------------


def test_a_digest_is_keyed_and_purpose_bound() -> None:
    pickup = digest("12345678")
    assert pickup.length == 8 and pickup.key_version == 1
    assert "12345678" not in pickup.digest and "12345678" not in repr(pickup)
    assert digest("12345678", CodePurpose.DROPOFF).digest != pickup.digest
    assert code_matches(pickup, code_digests(CODE_KEYS, CodePurpose.PICKUP, "12345678"))
    assert not code_matches(pickup, code_digests(CODE_KEYS, CodePurpose.PICKUP, "12345679"))


@pytest.mark.parametrize("bad", ["12a456", "123", "1" * 17, "１２３４５６", ""])
def test_codes_are_ascii_digits_of_sane_length(bad: str) -> None:
    with pytest.raises(InvalidPickupCode) as raised:
        digest(bad)
    assert raised.value.code == "invalid_pickup_code"


@PROPERTY
@given(st.integers(min_value=1, max_value=100_000))
def test_required_length_bounds_the_guessing_chance(alive: int) -> None:
    length = required_code_length(alive, POLICY)
    exposure = alive * guess_budget(POLICY)
    assert exposure <= POLICY.code_max_guess_success * 10**length
    if length > POLICY.code_min_length:  # and it is the shortest that does
        assert exposure > POLICY.code_max_guess_success * 10 ** (length - 1)
    assert required_code_length(alive + 1, POLICY) >= length


def test_guess_budget_follows_the_lockout_policy() -> None:
    periods = math.ceil(POLICY.code_horizon_s / POLICY.code_lockout_s) + 1
    assert guess_budget(POLICY) == POLICY.code_max_failures * periods
    # 14 days / 30 min + 1 = 673 periods of 5 guesses = 3365; at 1 %: 336,500 per live code.
    assert required_code_length(2, POLICY) == 6  # 673,000 <= 10^6
    assert required_code_length(3, POLICY) == 7  # 1,009,500 > 10^6


def test_the_locker_locks_out_after_failures_within_the_window() -> None:
    guard = CodeGuard()
    for i in range(POLICY.code_max_failures - 1):
        guard = record_failure(guard, POLICY, 100.0 + i, None)
        assert locked_until(guard, 100.0 + i, None) is None
    guard = record_failure(guard, POLICY, 110.0, None)
    assert locked_until(guard, 110.0, None) == 110.0 + POLICY.code_lockout_s
    assert locked_until(guard, 110.0 + POLICY.code_lockout_s, None) is None


def test_failures_outside_the_window_do_not_add_up() -> None:
    guard = CodeGuard()
    t = 0.0
    for _ in range(3 * POLICY.code_max_failures):
        guard = record_failure(guard, POLICY, t, None)
        t += POLICY.code_failure_window_s / (POLICY.code_max_failures - 1) + 1
    assert locked_until(guard, t, None) is None


def test_an_owner_is_locked_out_on_their_own() -> None:
    alice, bob = OwnerKey("a"), OwnerKey("b")
    guard = CodeGuard()
    for i in range(POLICY.code_max_failures_per_owner):
        guard = record_failure(guard, POLICY, float(i), alice)
    assert locked_until(guard, 10.0, alice) is not None
    assert locked_until(guard, 10.0, bob) is None
    assert locked_until(guard, 10.0, None) is None


def test_success_clears_the_owner_counter_and_prune_drops_old_state() -> None:
    alice = OwnerKey("a")
    guard = record_failure(CodeGuard(), POLICY, 0.0, alice)
    assert record_success(guard, alice).owner_failures == {}
    pruned = prune(guard, POLICY, POLICY.code_failure_window_s + 1)
    assert pruned.failures_mono_s == ()
    # ... and the owner's failed attempt is forgotten too: no personal data for ever.
    assert pruned.owner_failures == {}


def test_owner_failures_older_than_the_window_do_not_count() -> None:
    alice = OwnerKey("a")
    guard = CodeGuard()
    window = POLICY.code_failure_window_s
    for i in range(POLICY.code_max_failures_per_owner - 1):
        guard = record_failure(guard, POLICY, float(i), alice)
    # The last failure comes after the earlier ones left the window.
    guard = record_failure(guard, POLICY, window + POLICY.code_max_failures_per_owner, alice)
    assert locked_until(guard, window + POLICY.code_max_failures_per_owner, alice) is None
    assert len(guard.owner_failures[alice]) == 1


def test_restart_keeps_a_lockout_running_in_full() -> None:
    guard = CodeGuard()
    for i in range(POLICY.code_max_failures):
        guard = record_failure(guard, POLICY, 5_000.0 + i, OwnerKey("a"))
    rebased = rebase_after_restart(guard, POLICY, 3.0)  # the monotonic clock started again
    assert locked_until(rebased, 3.0, None) == 3.0 + POLICY.code_lockout_s
    assert locked_until(rebased, 3.0, OwnerKey("a")) == 3.0 + POLICY.code_lockout_s


# -- assignment ----------------------------------------------------------------------


def _free(
    cid: str, pulses: int = 0, state: CompartmentState = CompartmentState.FREE
) -> Compartment:
    return Compartment(CompartmentId(cid), state, pulse_count=pulses)


B = BoardRef(BusId("b"), BoardAddress(1))
OFF = BoardRef(BusId("b"), BoardAddress(9))


def _choose(pairs, size: Size, accessible: bool = False):  # type: ignore[no-untyped-def]
    chosen = choose_compartment(
        pairs, size, accessible=accessible, policy=POLICY, board_online=lambda b: b != OFF
    )
    return None if chosen is None else chosen.id


def test_smallest_fitting_size_first() -> None:
    pairs = [
        (spec("L1", Size.L, B, 1, "p"), _free("L1")),
        (spec("M1", Size.M, B, 2, "p"), _free("M1")),
    ]
    assert _choose(pairs, Size.S) == "M1"
    assert _choose(pairs, Size.L) == "L1"


def test_then_least_worn_then_high_slots_when_not_asked() -> None:
    pairs = [
        (spec("M1", Size.M, B, 1, "p", HIGH), _free("M1", pulses=9)),
        (spec("M2", Size.M, B, 2, "p", LOW), _free("M2", pulses=1)),
        (spec("M3", Size.M, B, 3, "p", HIGH), _free("M3", pulses=1)),
    ]
    assert _choose(pairs, Size.M) == "M3"  # M2 and M3 equally worn: keep the low one free


def test_an_accessible_slot_is_a_requirement_when_asked() -> None:
    pairs = [
        (spec("M1", Size.M, B, 1, "p", HIGH), _free("M1")),
        (spec("L1", Size.L, B, 2, "p", LOW), _free("L1", pulses=50)),
    ]
    assert _choose(pairs, Size.S, accessible=True) == "L1"
    assert _choose(pairs[:1], Size.S, accessible=True) is None


@pytest.mark.parametrize(
    "compartment",
    [
        _free("X", state=CompartmentState.OUT_OF_SERVICE),
        _free("X", state=CompartmentState.FAULTY),
        _free("X", state=CompartmentState.RESERVED),
        Compartment(CompartmentId("X"), physical=Physical(item=ItemReading.PRESENT)),
        Compartment(CompartmentId("X"), open_id=None, state=CompartmentState.DROPOFF),
    ],
)
def test_unusable_compartments_are_never_chosen(compartment: Compartment) -> None:
    assert _choose([(spec("X", Size.L, B, 1, "p"), compartment)], Size.S) is None


def test_a_compartment_on_an_offline_board_is_never_chosen() -> None:
    assert _choose([(spec("X", Size.L, OFF, 1, "p"), _free("X"))], Size.S) is None


# -- staggering ----------------------------------------------------------------------

slots = st.lists(
    st.builds(
        PulseSlot,
        st.builds(
            BoardRef,
            st.sampled_from([BusId("a"), BusId("b")]),
            st.sampled_from([BoardAddress(1), BoardAddress(2)]),
        ),
        st.sampled_from([PowerSupplyId("p1"), PowerSupplyId("p2"), PowerSupplyId("p3")]),
        st.integers(min_value=100, max_value=1_000),
    ),
    max_size=12,
)


@PROPERTY
@given(slots, st.integers(1, 4), st.integers(1, 3), st.integers(0, 500))
def test_staggered_pulses_respect_every_limit_at_every_instant(
    requests: list[PulseSlot], max_all: int, max_supply: int, gap: int
) -> None:
    delays = stagger(requests, max_simultaneous=max_all, max_per_supply=max_supply, gap_ms=gap)
    assert len(delays) == len(requests) and all(d >= 0 for d in delays)
    spans = [(d, d + r.duration_ms + gap, r) for d, r in zip(delays, requests, strict=True)]
    for start, _, _ in spans:
        active = [r for s, e, r in spans if s <= start < e]
        assert len(active) <= max_all
        assert len({r.board for r in active}) == len(active)
        for supply in {r.power_supply for r in active}:
            assert sum(r.power_supply == supply for r in active) <= max_supply


def test_independent_pulses_start_together() -> None:
    requests = [
        PulseSlot(BoardRef(BusId("a"), BoardAddress(1)), PowerSupplyId("p1"), 500),
        PulseSlot(BoardRef(BusId("a"), BoardAddress(2)), PowerSupplyId("p2"), 500),
    ]
    assert stagger(requests, max_simultaneous=2, max_per_supply=1, gap_ms=300) == (0, 0)
    assert stagger(requests, max_simultaneous=1, max_per_supply=1, gap_ms=300) == (0, 800)


def test_pulses_on_one_board_are_staggered() -> None:
    board = BoardRef(BusId("a"), BoardAddress(1))
    requests = [PulseSlot(board, PowerSupplyId(f"p{i}"), 500) for i in range(3)]
    assert stagger(requests, max_simultaneous=8, max_per_supply=8, gap_ms=100) == (0, 600, 1200)


def test_the_default_policy_is_consistent() -> None:
    assert config().policy == POLICY
    with pytest.raises(ValueError):
        LockerPolicy(max_simultaneous_pulses=0)
    with pytest.raises(ValueError):
        LockerPolicy(reminder_offsets_s=(-1.0,))
