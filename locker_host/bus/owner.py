"""BusOwner: the one task that talks on a serial port.

Theory of operation. Everything that goes on a bus goes through one asyncio
task (gateway notes 0.1; Modbus Serial Line V1.02 2.4.1: one transaction in
progress at a time). Each turn of its loop does one job:

1. an unlock (`unlock()`), written once, never retried: a lost reply is
   `unacknowledged` and the confirmation read that follows decides;
2. a confirmation read (queued after every unlock, or by `read_now()`), or
   the acknowledgement of latches a reading asked for;
3. otherwise the next routine poll, round robin over the boards whose poll
   interval (or, offline, probe back-off) has passed.

A job runs whole, so an unlock waits for at most the transaction in flight.
Before every request the owner leaves max(t3.5, min_gap) of silence after
the last byte on the line (transaction.py); a read of a healthy board is
retried once, a write never.

Consumers. Snapshots reach the consumer, an async callable passed to the
constructor, which the owner *awaits*: a reading's latches are acknowledged
only after the consumer returned, so a consumer that persists the snapshot
before returning cannot lose a latched open-and-close to a crash (the board
keeps the latch until then). The consumer gets a snapshot whenever a board's
readings, health or restart flag changed, not for every identical poll. It
runs inside the owner's task: it must be quick and must not await
`unlock()` / `read_now()` (that would wait for itself); schedule them as
tasks instead. To use a queue, pass `queue.put`. If the consumer raises, the
owner stops and the exception propagates out of `run()`.

Start-up is best effort per board (Open-Locker ADR-0006): a board's probe,
all-outputs-off (first start only) and configuration run when it is first
due; one that fails is retried by the health back-off while the others are
polled. A board coming back from offline is probed and configured again.

The port (port_keeper.py) is reopened with back-off after `PortUnavailable`
or `PortLost`. While it is down, unlocks are answered `board_offline` at
once and never queued for later (a stale unlock must not fire when the
adapter returns, field lessons 14), and every failed reopen counts as a
failed poll of each board, so boards go suspect and offline and their
compartments `unknown`. When the port opens, offline boards are probed at
once: the outage was the port's, not the boards'.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

from protocol import UsageError

from .board_state import BoardState, next_on_grid, pick_due
from .board_work import BoardWork
from .config import BusConfig
from .drivers import driver_for
from .errors import BusUsageError, PortLost, PortUnavailable
from .health import HealthEvent, HealthPolicy
from .jobs import AckJob, Job, JobQueue, Priority, ReadJob, UnlockJob
from .model import (
    BoardId,
    BoardSnapshot,
    BusStatistics,
    Health,
    UnlockOutcome,
    UnlockResult,
)
from .port_keeper import PortKeeper, PortOpener
from .statistics import Recorder
from .transport import SerialTransport

SnapshotConsumer = Callable[[BoardSnapshot], Awaitable[None]]


class BusOwner:
    def __init__(
        self,
        config: BusConfig,
        consumer: SnapshotConsumer,
        *,
        clock: Callable[[], float] = time.monotonic,
        open_port: PortOpener = SerialTransport.open,
    ) -> None:
        self.config = config
        self._consumer = consumer
        self._clock = clock
        self._open_port = open_port
        self._policy = HealthPolicy(
            config.failures_until_offline, config.probe_backoff_initial, config.probe_backoff_max
        )
        self._boards = [
            BoardState(
                driver_for(config.name, b),
                config.poll_interval if b.poll_interval is None else b.poll_interval,
                b.response_timeout,
            )
            for b in config.boards
        ]
        self._by_id = {s.board: s for s in self._boards}
        self._queue = JobQueue()
        self._wake = asyncio.Event()
        self._last_polled = -1
        self._grid_anchor = 0.0  # routine polls fall on anchor + k x interval (run() sets it)
        self._stats = Recorder(config.name, config.port, list(self._by_id))
        self._port = PortKeeper(
            config.port,
            config.format,
            initial=config.reopen_backoff_initial,
            maximum=config.reopen_backoff_max,
            opener=open_port,
            stats=self._stats,
        )
        self._work = BoardWork(config, self._port, self._stats, self._policy, clock)
        self._running = False
        self._failure: Exception | None = None  # what stopped run(), for later callers
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------

    async def run(self) -> None:
        """Own the bus until cancelled."""
        if self._running:
            raise BusUsageError(f"bus {self.config.name} already has a running owner")
        self._running = True
        self._failure = None
        self._grid_anchor = self._clock()
        try:
            while True:
                await self._turn()
        except Exception as exc:
            self._failure = exc
            raise
        finally:
            self._running = False
            self._port.close()
            self._fail_queued("the bus owner stopped")

    async def __aenter__(self) -> BusOwner:
        self._task = asyncio.create_task(self.run(), name=f"bus-owner-{self.config.name}")
        await asyncio.sleep(0)  # let it start, so that calls made right away find it running
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task  # re-raises what stopped the owner, if not the cancel

    # -- what consumers call ---------------------------------------------------------

    @property
    def boards(self) -> tuple[BoardId, ...]:
        return tuple(self._by_id)

    async def unlock(
        self, board: BoardId, channel: int, pulse_ms: int | None = None
    ) -> UnlockResult:
        """Pulse one lock; `pulse_ms` None: the board's configured pulse.

        Raises `BusUsageError` for an unknown board, channel or pulse; every
        bus outcome is a value (see `UnlockOutcome`)."""
        state = self._state(board)
        try:
            state.driver.unlock(channel, pulse_ms)
        except UsageError as exc:
            raise BusUsageError(f"{board}: {exc}") from None
        self._check_running()
        if self._port.transport is None:
            detail = self._port.describe()
            return self._unlocked(board, channel, UnlockOutcome.BOARD_OFFLINE, detail)
        if state.health.state is Health.OFFLINE:
            detail = f"board offline: {state.detail}"
            return self._unlocked(board, channel, UnlockOutcome.BOARD_OFFLINE, detail)
        result: asyncio.Future[UnlockResult] = asyncio.get_running_loop().create_future()
        self._queue.push(Priority.UNLOCK, UnlockJob(board, channel, pulse_ms, result))
        self._wake.set()
        return await result

    async def read_now(self, board: BoardId) -> BoardSnapshot:
        """Read one board ahead of the routine polls and return its snapshot.
        An offline board is not read before its probe is due (its cost stays
        one timeout per back-off interval): its snapshot says `offline`."""
        state = self._state(board)
        self._check_running()
        if self._port.transport is None or not state.health.due(self._clock()):
            return state.snapshot()
        result: asyncio.Future[BoardSnapshot] = asyncio.get_running_loop().create_future()
        self._queue.push(Priority.CONFIRM, ReadJob(board, result))
        self._wake.set()
        return await result

    def snapshot(self, board: BoardId) -> BoardSnapshot:
        return self._state(board).snapshot()

    def statistics(self) -> BusStatistics:
        health = {s.board: s.health.state for s in self._boards}
        identity = {s.board: s.driver.identity for s in self._boards}
        return self._stats.frozen(health, identity)

    # -- the loop ------------------------------------------------------------------

    async def _turn(self) -> None:
        self._wake.clear()
        now = self._clock()
        transport = self._port.transport
        if transport is not None and transport.lost is not None:
            self._port_lost(transport.lost)
        if self._port.due(now):
            await self._open(now)
        if self._port.transport is None:
            await self._sleep_until(self._port.reopen_at)
            return
        job = self._queue.pop() or self._next_poll(now)
        if job is None:
            await self._sleep_until(min(s.due_at() for s in self._boards))
            return
        try:
            await self._run(job)
        except PortLost as lost:
            state = self._by_id[job.board]
            self._work.record(state, HealthEvent.NO_REPLY, f"port lost: {lost}")
            await self._publish(state)
            self._port_lost(lost)

    async def _run(self, job: Job) -> None:
        match job:
            case UnlockJob():
                await self._unlock_job(job)
            case ReadJob():
                await self._read_job(job)
            case AckJob():
                await self._ack_job(job)

    def _next_poll(self, now: float) -> ReadJob | None:
        index = pick_due(self._boards, self._last_polled, now)
        if index is None:
            return None
        self._last_polled = index
        return ReadJob(self._boards[index].board)

    async def _sleep_until(self, when: float) -> None:
        delay = when - self._clock()
        if delay <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()

    # -- jobs --------------------------------------------------------------------------

    async def _read_job(self, job: ReadJob) -> None:
        state = self._by_id[job.board]
        try:
            now = self._clock()
            if not state.health.due(now):
                return  # offline, and its probe is not due: no bus time
            if now >= state.next_poll_at:  # a read ahead of time leaves the routine poll be
                state.next_poll_at = next_on_grid(self._grid_anchor, state.poll_interval, now)
            reading = None
            if state.started or await self._work.start(state):
                reading = await self._work.read(state)
            if reading is not None:
                active = {s.board for s in self._boards if s.health.state is not Health.OFFLINE}
                self._stats.read(state.board, self._clock(), active)
            await self._publish(state)
            if reading is not None and reading.acknowledge is not None:
                # after the consumer has the reading, never before
                self._queue.push(Priority.CONFIRM, AckJob(state.board, reading.acknowledge))
        finally:
            if job.result is not None and not job.result.done():
                job.result.set_result(state.snapshot())

    async def _unlock_job(self, job: UnlockJob) -> None:
        state = self._by_id[job.board]
        transport = self._port.transport
        assert transport is not None
        sent_before = transport.frames_sent
        outcome: UnlockOutcome | None = None
        detail = ""
        try:
            if state.health.state is Health.OFFLINE:
                outcome, detail = UnlockOutcome.BOARD_OFFLINE, f"board offline: {state.detail}"
                return
            if not state.started and not await self._work.start(state):
                outcome, detail = UnlockOutcome.BOARD_OFFLINE, f"not started: {state.detail}"
                await self._publish(state)
                return
            sent_before = transport.frames_sent
            outcome, detail = await self._work.unlock(state, job.channel, job.pulse_ms)
            await self._publish(state)
            if not self._queue.has_read(job.board):
                self._queue.push(Priority.CONFIRM, ReadJob(job.board))  # confirm right away
        except BaseException as exc:
            if outcome is None:  # the port was lost, or the owner stopped, mid-way
                sent = transport.frames_sent > sent_before
                outcome = UnlockOutcome.UNACKNOWLEDGED if sent else UnlockOutcome.BOARD_OFFLINE
                detail = str(exc) or type(exc).__name__
            raise
        finally:
            if outcome is not None and not job.result.done():
                job.result.set_result(self._unlocked(job.board, job.channel, outcome, detail))

    async def _ack_job(self, job: AckJob) -> None:
        state = self._by_id[job.board]
        if state.health.state is Health.OFFLINE:
            return  # the latches stay on the board: the next good read shows them again
        await self._work.acknowledge(state, job.exchange)
        await self._publish(state)

    # -- the port ------------------------------------------------------------------------

    async def _open(self, now: float) -> None:
        try:
            self._port.open(now, on_lost=self._wake.set)
        except PortUnavailable as error:
            for state in self._boards:
                if state.health.due(now):
                    state.record(HealthEvent.NO_REPLY, self._policy, now, f"port: {error}")
                    await self._publish(state)
            return
        for state in self._boards:
            state.record(HealthEvent.PORT_RETURNED, self._policy, now)
            state.next_poll_at = now

    def _port_lost(self, error: PortLost) -> None:
        self._port.lost(error, self._clock())
        self._fail_queued(f"port lost: {error}")

    def _fail_queued(self, why: str) -> None:
        for job in self._queue.drain():
            match job:
                case UnlockJob(result=result) if not result.done():
                    detail = f"not sent: {why}"
                    outcome = UnlockOutcome.BOARD_OFFLINE
                    result.set_result(self._unlocked(job.board, job.channel, outcome, detail))
                case ReadJob(result=result) if result is not None and not result.done():
                    result.set_result(self._by_id[job.board].snapshot())

    # -- helpers ------------------------------------------------------------------------

    async def _publish(self, state: BoardState) -> None:
        snapshot = state.snapshot()
        if state.news(snapshot):
            state.published = snapshot
            await self._consumer(snapshot)

    def _unlocked(
        self, board: BoardId, channel: int, outcome: UnlockOutcome, detail: str
    ) -> UnlockResult:
        self._stats.unlocked(outcome.value)
        return UnlockResult(board, channel, outcome, detail)

    def _state(self, board: BoardId) -> BoardState:
        state = self._by_id.get(board)
        if state is None:
            known = ", ".join(str(b) for b in self._by_id)
            raise BusUsageError(f"no board {board} on bus {self.config.name} ({known})")
        return state

    def _check_running(self) -> None:
        if not self._running:
            message = f"the owner of bus {self.config.name} is not running"
            raise BusUsageError(message) from self._failure
