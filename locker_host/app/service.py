"""``LockerService``: the one place that runs load -> decide -> save -> act.

Theory of operation (DESIGN.md section 2; field lessons #14 and #15):

* **One writer.** The service holds the state in memory between messages and
  serialises every message (command, observation, timer) with one
  ``asyncio.Lock``: decide on the current state, save, adopt the new state.
* **Write-ahead.** The new state documents, the personal data, the audit
  records, the outgoing events and the reply to a central command go to
  SQLite in one transaction (``persistence.plan`` -> ``StoreRunner.commit``,
  on the store's writer thread so an fsync never stalls the event loop). Only
  once the commit returned are the effects carried out (pulse a lock, read a
  board). A crash between the two leaves an intent without its effect, which
  the next start reports as ``outcome_unknown``; the other order would leave
  an effect without a record, which nothing could reconcile.
* **Effects feed back.** A pulse the board did not acknowledge becomes a
  ``PulseNotAcknowledged`` observation, a board read a ``BoardRead``; both go
  through the same loop. Effects run after the lock is released, so their
  results (and other messages) can be decided meanwhile. ``observe`` can hand
  them to a ``spawn`` callable (a task group's ``create_task``) instead of
  awaiting them: the bus owner's consumer must have the observation saved
  before the board's latches are acknowledged, but must never wait for its
  own bus (an effect's read or pulse would wait for the consumer to return).
* **Start-up.** Open the store, rebuild the state (``persistence.restore``),
  bring it in line with the configured layout (``layout_change.py``), then
  feed the domain ``Restarted()``: opens whose outcome was never recorded end
  ``outcome_unknown`` and are never re-executed, nothing opens by itself,
  every reading is ``unknown`` until each board has been read once.
* **Central commands** are de-duplicated by ``command_id`` (the stored reply
  is returned again, nothing is re-executed; the reply is saved in the same
  transaction as what the command did) and refused as ``expired`` once their
  ``expires_at`` has passed on a trusted clock. While the clock is not
  trusted the locker cannot judge staleness; the domain then refuses the one
  command where staleness is dangerous (a remote open).
* **Time.** Monotonic deadlines drive opens and door alarms; business
  deadlines are wall-clock times and wait while the clock is untrusted
  (``next_wakeup`` keeps re-checking so that the catch-up happens soon after
  the clock is synchronised, and so that a jump of the wall clock is noticed).
  The shell arms one timer for ``next_wakeup`` (``timer.DeadlineTimer``) and
  re-arms it when ``watch_timer`` says the answer may have moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, assert_never

from locker_host.domain import (
    AuditRecord,
    Command,
    CommandExpired,
    CompartmentView,
    Decision,
    Effect,
    Event,
    LockerConfig,
    LockerState,
    Now,
    Observation,
    PulseLock,
    PulseNotAcknowledged,
    ReadBoard,
    Restarted,
    command_name,
    decide,
    initial_state,
    inventory_report,
    next_deadline,
    on_timer,
    to_plain,
)
from locker_host.store import AuditRecord as StoredAudit
from locker_host.store import CommandId, CommandReply, StoreRunner

from . import replies
from .layout_change import LayoutChange, reconcile_layout
from .persistence import Plan, Saved, plan, restore
from .ports import Clock, LockDriver, PulseOutcome
from .records import denial_row, start_rows
from .replies import JsonDict, Reply
from .secrets import Keys

Spawn = Callable[[Coroutine[Any, Any, None]], object]
"""Runs a coroutine in the background, e.g. ``asyncio.TaskGroup.create_task``."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceConfig:
    locker: LockerConfig
    database: str | os.PathLike[str]
    keys: Keys
    # A central command's reply is kept this long after its expires_at, so a
    # redelivery is answered the same even across a wall-clock jump back.
    command_grace_s: float = 86_400.0
    # Longest sleep before wall-clock deadlines are looked at again: a clock
    # that jumps or becomes trusted is noticed within this time.
    wall_recheck_s: float = 60.0


@dataclass(frozen=True)
class CentralContext:
    """The envelope of a central command."""

    command_id: str
    expires_at_wall_s: float
    operator: str


@dataclass(frozen=True)
class Outcome:
    reply: Reply
    decision: Decision | None  # None: answered from the stored reply, or expired
    duplicate: bool = False


@dataclass
class ServiceStatistics:
    decisions: int = 0
    commits: int = 0
    pulses: int = 0
    board_reads: int = 0
    missing_personal_refs: int = 0


class LockerService:
    def __init__(
        self,
        config: ServiceConfig,
        *,
        runner: StoreRunner,
        driver: LockDriver,
        clock: Clock,
        saved: Saved,
        state: LockerState,
    ) -> None:
        # Use LockerService.open(): it rebuilds the state and reconciles it first.
        self._config = config
        self._runner = runner
        self._driver = driver
        self._clock = clock
        self._saved = saved
        self._state = state
        self._lock = asyncio.Lock()
        self._stats = ServiceStatistics()
        self._listeners: list[Callable[[], None]] = []
        self._timer_watchers: list[Callable[[], None]] = []
        self._clock_trusted = clock.wall_trusted()

    @classmethod
    async def open(
        cls, config: ServiceConfig, *, driver: LockDriver, clock: Clock
    ) -> LockerService:
        runner = await StoreRunner.open(config.database, now=_utc(clock.wall()))
        try:
            snapshot, personal = await runner.run(
                lambda store: (
                    store.load_state(),
                    [row.record for row in store.active_personal_data()],
                )
            )
            restored = restore(snapshot, personal)
            state = restored.state or initial_state(config.locker)
            state, change = reconcile_layout(config.locker, state)
            service = cls(
                config,
                runner=runner,
                driver=driver,
                clock=clock,
                saved=restored.saved,
                state=state,
            )
            service._stats.missing_personal_refs = len(restored.missing_personal_refs)
            await service._save_start(change, len(restored.missing_personal_refs))
            await service.observe(Restarted())
            await service._read_every_board()
        except BaseException:
            await runner.aclose()
            raise
        return service

    async def aclose(self) -> None:
        async with self._lock:
            await self._runner.aclose()

    async def __aenter__(self) -> LockerService:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- introspection ---------------------------------------------------------------

    @property
    def config(self) -> LockerConfig:
        return self._config.locker

    @property
    def keys(self) -> Keys:
        return self._config.keys

    @property
    def state(self) -> LockerState:
        """The current state (frozen; replaced, never changed, by each decision)."""
        return self._state

    @property
    def runner(self) -> StoreRunner:
        """For read-only queries (audit export, outbox) by the other adapters."""
        return self._runner

    def now(self) -> Now:
        trusted = self._clock.wall_trusted()
        if trusted != self._clock_trusted:
            self._clock_trusted = trusted
            self._timer_moved()  # wall-clock deadlines are armed, or deferred, from now on
        return Now(self._clock.monotonic(), self._clock.wall(), trusted)

    def statistics(self) -> ServiceStatistics:
        return ServiceStatistics(**vars(self._stats))

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` on the event loop after every commit; returns its remover.

        For the adapters that push changes (the MQTT bridge's ``wake``, the
        pages' live updates): it carries no data, they read what they need. A
        listener must be quick and must not raise (one that raises is logged
        and kept: a broken page must not stop the locker).
        """
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    async def snapshot(self) -> JsonDict:
        """The locker's state as published (retained `state`): no personal data.

        It carries the head of the audit hash chain, so that a history
        rewritten on the box no longer matches what the centre has seen.
        """
        head = await self._runner.run(lambda store: store.chain_head())
        report = inventory_report(self.config, self._state)
        now = self.now()
        return {
            "site": self.config.site,
            "locker": self.config.locker,
            "boot_id": str(self._runner.boot_id),
            "clock_trusted": now.clock_trusted,
            "audit_head": {"seq": head.seq, "hash": head.hash},
            "compartments": to_plain(tuple[CompartmentView, ...], report.compartments),
            "boards": dict(report.boards),
        }

    # -- messages -------------------------------------------------------------------

    async def submit(self, command: Command, *, central: CentralContext | None = None) -> Outcome:
        return await self._step(
            lambda state, now: decide(self.config, state, command, now),
            central,
            command_name(command),
        )

    async def observe(self, observation: Observation, *, spawn: Spawn | None = None) -> Decision:
        """Decide and save; then carry out the effects, or hand them to ``spawn``."""
        outcome = await self._step(
            lambda state, now: decide(self.config, state, observation, now), spawn=spawn
        )
        assert outcome.decision is not None
        return outcome.decision

    # -- timers (aioquic style: the shell asks, then calls back) -----------------------

    def watch_timer(self, watcher: Callable[[], None]) -> Callable[[], None]:
        """Call ``watcher()`` whenever ``next_wakeup`` may have moved; returns its remover.

        That is after every commit (a decision starts and ends deadlines) and
        when the wall clock's trust changes (as any step or ``now()`` sees it).
        The shell re-arms its one timer then, instead of polling. Like a commit
        listener, a watcher must be quick and must not raise.
        """
        self._timer_watchers.append(watcher)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._timer_watchers.remove(watcher)

        return remove

    def _timer_moved(self) -> None:
        for watcher in list(self._timer_watchers):
            watcher()

    def next_wakeup(self) -> float | None:
        """When to call ``on_timer`` next, on the monotonic clock; None: only after a message."""
        now = self.now()
        deadline = next_deadline(self.config, self._state, clock_trusted=now.clock_trusted)
        times = [] if deadline.mono_s is None else [deadline.mono_s]
        if deadline.wall_s is not None:
            wait = min(max(deadline.wall_s - now.wall_s, 0.0), self._config.wall_recheck_s)
            times.append(now.mono_s + wait)
        elif not now.clock_trusted:
            times.append(now.mono_s + self._config.wall_recheck_s)
        return min(times, default=None)

    async def on_timer(self) -> Decision:
        outcome = await self._step(lambda state, now: on_timer(self.config, state, now))
        assert outcome.decision is not None
        return outcome.decision

    # -- the loop -----------------------------------------------------------------------

    async def _step(
        self,
        decide_on: Callable[[LockerState, Now], Decision],
        central: CentralContext | None = None,
        action: str = "",
        *,
        spawn: Spawn | None = None,
    ) -> Outcome:
        async with self._lock:
            if central is not None:
                stored = await self._runner.run(
                    lambda store: store.command_reply(central.command_id)
                )
                if stored is not None:
                    return Outcome(replies.from_json(stored.reply), None, duplicate=True)
            now = self.now()
            stale = None if central is None else _stale(now, central.expires_at_wall_s)
            if central is not None and stale is not None:
                return await self._expired(central, stale, action, now)
            decision = decide_on(self._state, now)
            self._stats.decisions += 1
            reply: Reply
            if decision.refusal is not None:
                reply = replies.refusal(decision.refusal)
            else:
                reply = replies.done(decision.reply)
            await self._save(
                self._plan(
                    decision.state,
                    audit=decision.audit,
                    events=decision.events,
                    command=self._command_reply(central, reply, now),
                ),
                now,
            )
        if spawn is not None and decision.effects:
            spawn(self._act(decision.effects))
        else:
            await self._act(decision.effects)
        return Outcome(reply, decision)

    def stale(self, expires_at_wall_s: float) -> CommandExpired | None:
        """The one rule for a stale command (the MQTT bridge's own commands follow it too)."""
        return _stale(self.now(), expires_at_wall_s)

    async def _expired(
        self, central: CentralContext, problem: CommandExpired, action: str, now: Now
    ) -> Outcome:
        reply = replies.refusal(problem)
        audit = denial_row(
            f"central:{central.operator}",
            action,
            problem.code,
            now,
            command_id=central.command_id,
            expires_at_wall_s=central.expires_at_wall_s,
        )
        await self._record([audit], now, command=self._command_reply(central, reply, now))
        return Outcome(reply, None)

    def _command_reply(
        self, central: CentralContext | None, reply: Reply, now: Now
    ) -> CommandReply | None:
        if central is None:
            return None
        # At or after expires_at (store/commands.py): a replay old enough to be forgotten
        # is refused as stale instead of executed again.
        keep_s = max(central.expires_at_wall_s, now.wall_s) + self._config.command_grace_s
        return CommandReply(CommandId(central.command_id), reply.to_json(), _utc(keep_s))

    def _plan(
        self,
        state: LockerState,
        *,
        audit: Sequence[AuditRecord] = (),
        events: Sequence[Event] = (),
        app_audit: Sequence[StoredAudit] = (),
        command: CommandReply | None = None,
    ) -> Plan:
        return plan(
            self._saved,
            state,
            bare_key_version=self.keys.owner.current,
            audit=audit,
            events=events,
            app_audit=app_audit,
            command=command,
        )

    async def _record(
        self, audit: Sequence[StoredAudit], now: Now, *, command: CommandReply | None = None
    ) -> None:
        """Save audit rows of the app's own (and a reply); the state does not change."""
        await self._save(self._plan(self._state, app_audit=audit, command=command), now)

    async def _save(self, planned: Plan, now: Now) -> None:
        """Commit, then adopt; called with the lock held."""
        work = planned.work
        if work.state or work.personal or work.audit or work.events or work.command:
            commit = asyncio.ensure_future(self._runner.commit(work, now=_utc(now.wall_s)))
            try:
                await asyncio.shield(commit)
            except asyncio.CancelledError:
                # The writer thread carries on: find out whether the commit landed so
                # that memory keeps matching the disk, then stop without acting.
                await asyncio.wait([commit])
                if not commit.cancelled() and commit.exception() is None:
                    self._adopt(planned)
                raise
            self._stats.commits += 1
            self._adopt(planned)
            self._notify()
            self._timer_moved()
            return
        self._adopt(planned)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                logger.exception("commit listener failed")

    def _adopt(self, planned: Plan) -> None:
        self._saved = planned.saved
        assert planned.saved.state is not None
        self._state = planned.saved.state

    async def _act(self, effects: Sequence[Effect]) -> None:
        pulses: list[PulseLock] = []
        reads: list[ReadBoard] = []
        for effect in effects:
            match effect:
                case PulseLock():
                    pulses.append(effect)
                case ReadBoard():
                    reads.append(effect)
                case _:
                    assert_never(effect)
        if pulses:
            # Together: each pulse's delay_ms (the stagger) counts from now, not from the last.
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._driver.pulse(p)) for p in pulses]
            self._stats.pulses += len(pulses)
            for pulse, task in zip(pulses, tasks, strict=True):
                if task.result() is PulseOutcome.NOT_ACKNOWLEDGED:
                    await self.observe(PulseNotAcknowledged(pulse.open_id))
        for read in reads:
            await self._read(read)

    async def _read(self, effect: ReadBoard) -> None:
        self._stats.board_reads += 1
        result = await self._driver.read_board(effect)
        if result is not None:
            await self.observe(result)

    # -- start-up ---------------------------------------------------------------------

    async def _save_start(self, change: LayoutChange, missing_personal: int) -> None:
        async with self._lock:
            await self._record(start_rows(change, missing_personal), self.now())

    async def _read_every_board(self) -> None:
        """Reconcile with the sensors: one read of each board (an unread one stays unknown)."""
        for board in self.config.layout.boards():
            await self._read(ReadBoard(board, None))

    # -- app-level audit (what the domain never sees) -------------------------------------

    async def record_denial(
        self, actor: str, action: str, code: str, *, details: dict[str, str] | None = None
    ) -> None:
        """Audit a refusal decided before the domain (an unknown staff card)."""
        async with self._lock:
            now = self.now()
            await self._record([denial_row(actor, action, code, now, **(details or {}))], now)


def _utc(wall_s: float) -> datetime:
    return datetime.fromtimestamp(wall_s, UTC)


def _stale(now: Now, expires_at_wall_s: float) -> CommandExpired | None:
    # Only a trusted clock can tell: on an untrusted one a command is carried out
    # rather than refused for a time the locker does not know.
    if not now.clock_trusted or now.wall_s <= expires_at_wall_s:
        return None
    return CommandExpired(
        "the command expired before it could be carried out", expires_at_wall_s=expires_at_wall_s
    )
