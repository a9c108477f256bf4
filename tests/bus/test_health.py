"""Board health: every (state, event) pair, the back-off, and what an
offline board costs (counted on the simulated line)."""

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest

from locker_host.bus import BusOwner, Health
from locker_host.bus.health import BoardHealth, HealthEvent, HealthPolicy, step

from .conftest import SimFactory
from .helpers import Snapshots, board, control, line_records, run, sim_config

POLICY = HealthPolicy(failures_until_offline=3, backoff_initial=1.0, backoff_max=30.0)
NOW = 100.0
U, ON, SUS, OFF = Health.UNKNOWN, Health.ONLINE, Health.SUSPECT, Health.OFFLINE
REPLY, NO_REPLY, BACK = HealthEvent.REPLY, HealthEvent.NO_REPLY, HealthEvent.PORT_RETURNED

# (before, event) -> after, at NOW
CASES = [
    (BoardHealth(U), REPLY, BoardHealth(ON)),
    (BoardHealth(U), NO_REPLY, BoardHealth(SUS, 1)),
    (BoardHealth(U), BACK, BoardHealth(U)),
    (BoardHealth(ON), REPLY, BoardHealth(ON)),
    (BoardHealth(ON), NO_REPLY, BoardHealth(SUS, 1)),
    (BoardHealth(ON), BACK, BoardHealth(ON)),
    (BoardHealth(SUS, 1), REPLY, BoardHealth(ON)),
    (BoardHealth(SUS, 1), NO_REPLY, BoardHealth(SUS, 2)),
    (BoardHealth(SUS, 2), NO_REPLY, BoardHealth(OFF, 3, 1.0, NOW + 1.0)),
    (BoardHealth(SUS, 2), BACK, BoardHealth(SUS, 2)),
    (BoardHealth(OFF, 3, 1.0, 90.0), REPLY, BoardHealth(ON)),
    (BoardHealth(OFF, 3, 1.0, 90.0), NO_REPLY, BoardHealth(OFF, 4, 2.0, NOW + 2.0)),
    (BoardHealth(OFF, 9, 16.0, 90.0), NO_REPLY, BoardHealth(OFF, 10, 30.0, NOW + 30.0)),
    (BoardHealth(OFF, 9, 30.0, 90.0), NO_REPLY, BoardHealth(OFF, 10, 30.0, NOW + 30.0)),
    (BoardHealth(OFF, 9, 16.0, 190.0), BACK, BoardHealth(OFF, 9, 1.0, NOW)),
]


@pytest.mark.parametrize(("before", "event", "after"), CASES)
def test_transition(before: BoardHealth, event: HealthEvent, after: BoardHealth) -> None:
    assert step(before, event, POLICY, NOW) == after


def test_the_table_covers_every_pair() -> None:
    covered = {(before.state, event) for before, event, _ in CASES}
    assert covered == {(state, event) for state in Health for event in HealthEvent}


def test_one_failure_allowed_goes_straight_offline() -> None:
    policy = HealthPolicy(failures_until_offline=1, backoff_initial=0.5, backoff_max=4.0)
    assert step(BoardHealth(ON), NO_REPLY, policy, 0.0) == BoardHealth(OFF, 1, 0.5, 0.5)


def test_backoff_doubles_up_to_the_cap() -> None:
    health = BoardHealth(ON)
    waits = []
    now = 0.0
    for _ in range(12):
        health = step(health, NO_REPLY, POLICY, now)
        if health.state is OFF:
            assert health.probe_at is not None
            waits.append(health.probe_at - now)
            now = health.probe_at
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0, 30.0]


def test_an_offline_board_is_due_only_at_its_probe() -> None:
    health = BoardHealth(OFF, 3, 1.0, NOW + 1.0)
    assert not health.due(NOW)
    assert health.due(NOW + 1.0)
    assert BoardHealth(SUS, 1).due(NOW)


@pytest.mark.parametrize(
    ("failures", "initial", "cap"), [(0, 1.0, 2.0), (3, 0.0, 1.0), (3, 2.0, 1.0)]
)
def test_policy_rejects_nonsense(failures: int, initial: float, cap: float) -> None:
    with pytest.raises(ValueError, match=r"failures_until_offline|backoff"):
        HealthPolicy(failures, initial, cap)


def test_a_dead_board_costs_at_most_one_transaction_per_probe_interval(
    make_sim: SimFactory,
) -> None:
    """Unit 2 is dead from the start while unit 1 is polled as fast as the bus
    allows. Over a window of about 8 probe intervals (as long as the window
    really was: a busy machine lengthens the sleep) the line carries at most
    one request to unit 2 per interval (plus one at the window's edge), and
    never two to it in a row: the live board is polled between any two probes."""
    sim = make_sim()
    control(sim, "offline", unit=2)
    interval, intervals = 0.25, 8
    snapshots = Snapshots()
    config = sim_config(
        sim, poll_interval=0.0, probe_backoff_initial=interval, probe_backoff_max=interval
    )

    async def main() -> tuple[float, float]:
        async with BusOwner(config, snapshots) as owner:
            await snapshots.wait_for(lambda s: s.board.unit == 2 and s.health is OFF)
            start = sim.now()
            await asyncio.sleep(interval * intervals)
            end = sim.now()
            assert owner.snapshot(board(1)).health is ON
        return start, end

    start, end = run(main())
    window = [t for t in line_records(sim) if start <= t["received_at"] < end]
    to_dead = [t for t in window if t["unit"] == 2]
    assert 1 <= len(to_dead) <= (end - start) / interval + 1
    assert all(t["outcome"] == "no_reply" for t in to_dead)
    # The live board kept the bus, counted in transactions (how many fit in
    # a probe interval depends on how busy the machine is, not on the owner).
    units = [t["unit"] for t in window]
    assert (2, 2) not in pairwise(units)
    assert units.count(1) >= 2 * len(to_dead)
