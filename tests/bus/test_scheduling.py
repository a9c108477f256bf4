"""The queue's priorities and the round robin, without a bus."""

from __future__ import annotations

import asyncio

from locker_host.bus import BoardId, ReferenceBoardConfig
from locker_host.bus.board_state import BoardState, next_on_grid, pick_due
from locker_host.bus.drivers import Exchange, ReferenceDriver
from locker_host.bus.health import BoardHealth
from locker_host.bus.jobs import AckJob, JobQueue, Priority, ReadJob, UnlockJob
from locker_host.bus.model import Health, UnlockResult
from protocol import reference_board as rb

A, B = BoardId("bus0", 1), BoardId("bus0", 2)


def test_unlocks_go_first_then_confirmations_in_arrival_order() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        queue = JobQueue()
        ack = AckJob(A, Exchange(1, rb.ack_request(3)))
        read = ReadJob(B)
        first: asyncio.Future[UnlockResult] = loop.create_future()
        second: asyncio.Future[UnlockResult] = loop.create_future()
        queue.push(Priority.CONFIRM, ack)
        queue.push(Priority.CONFIRM, read)
        queue.push(Priority.UNLOCK, UnlockJob(A, 1, None, first))
        queue.push(Priority.UNLOCK, UnlockJob(B, 2, None, second))
        assert queue.has_read(B) and not queue.has_read(A)
        order = [queue.pop() for _ in range(5)]
        assert [type(j).__name__ for j in order[:4]] == [
            "UnlockJob",
            "UnlockJob",
            "AckJob",
            "ReadJob",
        ]
        assert [j.board for j in order[:2] if j is not None] == [A, B]
        assert order[4] is None

    asyncio.run(main())


def test_an_unlock_whose_caller_gave_up_never_fires() -> None:
    async def main() -> None:
        queue = JobQueue()
        gone: asyncio.Future[UnlockResult] = asyncio.get_running_loop().create_future()
        gone.cancel()
        queue.push(Priority.UNLOCK, UnlockJob(A, 1, None, gone))
        queue.push(Priority.CONFIRM, ReadJob(A))
        job = queue.pop()
        assert isinstance(job, ReadJob)
        assert len(queue) == 0

    asyncio.run(main())


def states(*due: float) -> list[BoardState]:
    out = []
    for unit, at in enumerate(due, 1):
        state = BoardState(ReferenceDriver("bus0", ReferenceBoardConfig(unit, 8)), 0.5, None)
        state.next_poll_at = at
        out.append(state)
    return out


def test_round_robin_starts_after_the_board_polled_last() -> None:
    boards = states(0.0, 0.0, 0.0)
    picked = []
    last = -1
    for _ in range(6):
        index = pick_due(boards, last, now=1.0)
        assert index is not None
        picked.append(index)
        last = index
    assert picked == [0, 1, 2, 0, 1, 2]


def test_round_robin_skips_boards_not_due() -> None:
    boards = states(0.0, 5.0, 0.0)
    assert pick_due(boards, 0, now=1.0) == 2
    assert pick_due(boards, 2, now=1.0) == 0
    assert pick_due(states(5.0, 5.0), -1, now=1.0) is None


def test_an_offline_board_is_due_at_its_probe_not_its_poll() -> None:
    boards = states(0.0)
    boards[0].health = BoardHealth(Health.OFFLINE, 3, 2.0, 4.0)
    assert pick_due(boards, -1, now=3.9) is None
    assert pick_due(boards, -1, now=4.0) == 0


def test_routine_polls_stay_on_the_grid_so_boards_fall_due_together() -> None:
    # anchored at 100.0, interval 0.2: grid points 100.2, 100.4, ...
    assert next_on_grid(100.0, 0.2, 100.0) == 100.2
    # polled late inside an interval (other boards were polled first): the
    # next poll stays on the grid, not one interval after the late read
    for late in (100.2, 100.23, 100.39):
        assert abs(next_on_grid(100.0, 0.2, late) - 100.4) < 1e-9
    # eight boards read one after the other inside the same interval are all
    # due again at the same moment: one wake-up of the owner per cycle
    reads = [100.2 + 0.0095 * k for k in range(8)]
    assert len({round(next_on_grid(100.0, 0.2, at), 9) for at in reads}) == 1
    # a saturated bus (a read a whole interval late) skips to the next point
    assert abs(next_on_grid(100.0, 0.2, 100.65) - 100.8) < 1e-9


def test_an_interval_of_zero_is_always_due() -> None:
    assert next_on_grid(100.0, 0.0, 123.4) == 123.4
