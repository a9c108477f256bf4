"""Shared by the bus tests: run a coroutine with a bound, collect snapshots,
talk to a simulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from locker_host.bus import (
    BoardConfig,
    BoardId,
    BoardSnapshot,
    BusConfig,
    Health,
    ReferenceBoardConfig,
)
from simulator.commands import dispatch
from simulator.runtime import Simulator

T = TypeVar("T")
BUS = "bus0"


def run(coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


def board(unit: int) -> BoardId:
    return BoardId(BUS, unit)


def sim_config(
    sim: Simulator, boards: tuple[BoardConfig, ...] | None = None, **options: Any
) -> BusConfig:
    """A bus config for the simulator's first bus; fast enough for tests."""
    fmt = sim.world.lines[BUS].format
    options = {
        "poll_interval": 0.05,
        "probe_backoff_initial": 0.2,
        "probe_backoff_max": 0.4,
        "reopen_backoff_initial": 0.1,
        "reopen_backoff_max": 0.2,
        **options,
    }
    if boards is None:
        boards = (ReferenceBoardConfig(1, 24), ReferenceBoardConfig(2, 24))
    return BusConfig(BUS, str(sim.fronts[BUS].pty.link), boards, format=fmt, **options)


def control(sim: Simulator, cmd: str, **args: Any) -> dict[str, Any]:
    reply = dispatch(sim, {"cmd": cmd, **args})
    assert reply["ok"], reply
    return reply


def line_records(sim: Simulator) -> list[dict[str, Any]]:
    """Every transaction record the simulated line kept (up to 1000)."""
    stats = control(sim, "stats", limit=1000)["buses"][BUS]
    records: list[dict[str, Any]] = stats["transactions"]
    return records


def line_counters(sim: Simulator) -> dict[str, Any]:
    counters: dict[str, Any] = control(sim, "stats", limit=1)["buses"][BUS]["counters"]
    return counters


def health_is(unit: int, health: Health) -> Callable[[BoardSnapshot], bool]:
    return lambda s: s.board.unit == unit and s.health is health


def settled(unit: int) -> Callable[[BoardSnapshot], bool]:
    """Online, with the power-up reset flag acknowledged."""
    return lambda s: s.board.unit == unit and s.health is Health.ONLINE and not s.restarted


class Snapshots:
    """A consumer that keeps everything it is given."""

    def __init__(self) -> None:
        self.seen: list[BoardSnapshot] = []
        self._changed = asyncio.Event()

    async def __call__(self, snapshot: BoardSnapshot) -> None:
        self.seen.append(snapshot)
        self._changed.set()

    def of(self, unit: int) -> list[BoardSnapshot]:
        return [s for s in self.seen if s.board.unit == unit]

    async def wait_for(
        self, predicate: Callable[[BoardSnapshot], bool], *, after: int = 0, timeout: float = 5.0
    ) -> BoardSnapshot:
        """The first snapshot from index `after` on (seen or still to come) that matches."""
        async with asyncio.timeout(timeout):
            index = after
            while True:
                while index < len(self.seen):
                    if predicate(self.seen[index]):
                        return self.seen[index]
                    index += 1
                self._changed.clear()
                await self._changed.wait()


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def until_read(read_at: Callable[[], float | None], timeout: float = 5.0) -> float:
    """Wait for the next read after now; returns its time."""
    before = read_at()
    await eventually(lambda: read_at() != before, timeout)
    value = read_at()
    assert value is not None
    return value
