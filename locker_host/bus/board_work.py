"""What a job does with one board on the bus: start it, read it, unlock a
channel, acknowledge latches; each with its health bookkeeping.

The bus owner decides *when* (owner.py); this decides *what goes on the
wire* and what the replies mean for the board's state. Every transaction
goes through `exchange`, which leaves the inter-frame silence, applies the
response timeout, and retries a read of a healthy board once. A write is
never retried: a write whose reply was lost may well have been executed
(gateway notes 0.4), and an unlock is reported `unacknowledged` instead.
An unlock the board never answers (Kerong CU48), or may answer or not
(Kerong CU16: `reply_optional`), is confirmed by the family's poll right
after it: a valid reading says the board is there and heard the line, and
is `acknowledged`; the door switch then tells the rest, as after any
acknowledged pulse. A missing unlock reply is never counted against the
board's health: only the confirming read is. Only a lost port raises
(`PortLost`); bus faults are values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocol import BusFault, FaultKind

from .board_state import BoardState
from .config import BusConfig
from .drivers import Reading, StartupKind, WireExchange
from .errors import PortLost
from .health import HealthEvent, HealthPolicy
from .model import Health, UnlockOutcome
from .port_keeper import PortKeeper
from .statistics import Recorder
from .timing import frame_silence, inter_frame_gap, response_timeout, unanswered_wait
from .transaction import Sent, transact

_REPLY, _NO_REPLY = HealthEvent.REPLY, HealthEvent.NO_REPLY


def answered(outcome: object) -> bool:
    """A valid reply, or an exception reply: either way the board is there."""
    return not isinstance(outcome, BusFault) or outcome.kind is FaultKind.EXCEPTION_REPLY


class BoardWork:
    def __init__(
        self,
        config: BusConfig,
        port: PortKeeper,
        stats: Recorder,
        policy: HealthPolicy,
        clock: Callable[[], float],
    ) -> None:
        self._config = config
        self._port = port
        self._stats = stats
        self._policy = policy
        self._clock = clock
        self._gap = inter_frame_gap(config.format, config.min_gap)
        self._silence = frame_silence(config.format, config.adapter_allowance)
        self._timeouts: dict[tuple[int, int], float] = {}

    def record(self, state: BoardState, event: HealthEvent, detail: str = "") -> None:
        state.record(event, self._policy, self._clock(), detail)

    async def start(self, state: BoardState) -> bool:
        """Probe, all outputs off (once per owner), configure; stops at the first
        fault. Probes in a row are alternatives: the first that succeeds counts."""
        steps = state.driver.startup()
        probed = False
        for i, step in enumerate(steps):
            probe = step.kind is StartupKind.PROBE
            if (probe and probed) or (
                step.kind is StartupKind.OUTPUTS_OFF and state.outputs_off_done
            ):
                continue
            outcome = await self.exchange(state, step.exchange)
            fault = (
                outcome
                if isinstance(outcome, BusFault)
                else state.driver.check_startup(step, outcome)
            )
            another_probe = i + 1 < len(steps) and steps[i + 1].kind is StartupKind.PROBE
            if fault is not None and probe and another_probe:
                continue
            if fault is not None:
                self.record(state, _NO_REPLY, f"start-up {step.kind}: {fault}")
                return False
            probed = probed or probe
            if step.kind is StartupKind.OUTPUTS_OFF:
                state.outputs_off_done = True
        state.started = True
        self.record(state, _REPLY)
        return True

    async def read(self, state: BoardState) -> Reading | None:
        """One poll; the reading is also stored in `state`. None: it failed."""
        replies: list[object] = []
        reading: Reading | BusFault | None = None
        for exchange in state.driver.poll():
            outcome = await self.exchange(state, exchange)
            if isinstance(outcome, BusFault):
                reading = outcome
                break
            replies.append(outcome)
        else:
            reading = state.driver.decode(tuple(replies))
        if isinstance(reading, BusFault):
            self.record(state, _NO_REPLY, f"poll: {reading}")
            return None
        assert reading is not None
        if reading.restarted and not state.restarted and state.read_at is not None:
            state.started = False  # power-cycled between two polls: configure it again
        state.channels, state.read_at = reading.channels, self._clock()
        state.restarted = reading.restarted
        state.change_counter = reading.change_counter
        self.record(state, _REPLY)
        return reading

    async def unlock(
        self, state: BoardState, channel: int, pulse_ms: int | None
    ) -> tuple[UnlockOutcome, str]:
        request = state.driver.unlock(channel, pulse_ms)
        reply = await self.exchange(state, request)
        if isinstance(reply, BusFault) and reply.kind is FaultKind.EXCEPTION_REPLY:
            self.record(state, _REPLY)
            return UnlockOutcome.REFUSED, str(reply)
        if isinstance(reply, Sent) or request.reply_optional:
            return await self._confirm(state, reply)
        if not isinstance(reply, BusFault):
            self.record(state, _REPLY)
            return UnlockOutcome.ACKNOWLEDGED, ""
        self.record(state, _NO_REPLY, f"unlock: {reply}")
        return UnlockOutcome.UNACKNOWLEDGED, str(reply)

    async def _confirm(self, state: BoardState, reply: object) -> tuple[UnlockOutcome, str]:
        """An unlock whose reply is not needed: a status read says the board heard it."""
        answered_unlock = not isinstance(reply, Sent | BusFault)
        if answered_unlock:
            self.record(state, _REPLY)
        heard = "the board answered" if answered_unlock else "no reply"
        if isinstance(reply, BusFault):
            heard = f"no valid reply ({reply.kind.value})"
        if await self.read(state) is not None:
            return UnlockOutcome.ACKNOWLEDGED, f"confirmed by a status read ({heard})"
        if answered_unlock:
            return UnlockOutcome.ACKNOWLEDGED, f"answered; the status read failed: {state.detail}"
        return UnlockOutcome.UNACKNOWLEDGED, f"sent; no confirmation: {state.detail}"

    async def acknowledge(self, state: BoardState, exchange: WireExchange[Any]) -> None:
        reply = await self.exchange(state, exchange)
        if answered(reply):
            self.record(state, _REPLY)
        else:
            self.record(state, _NO_REPLY, f"acknowledge: {reply}")

    def _timeout(self, exchange: WireExchange[Any]) -> float:
        # A response timeout depends only on the two frame lengths: worked out once
        # per pair (a handful per bus), not per transaction.
        key = (exchange.request_bytes, exchange.reply_bytes)
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = response_timeout(
                self._config.format,
                key[0],
                key[1],
                slave_allowance=self._config.reply_allowance,
                adapter_allowance=self._config.adapter_allowance,
            )
        return timeout

    def _unanswered(self, exchange: WireExchange[Any]) -> float:
        key = (-exchange.request_bytes, exchange.reply_bytes)  # apart from _timeout's keys
        wait = self._timeouts.get(key)
        if wait is None:
            wait = self._timeouts[key] = unanswered_wait(
                self._config.format,
                exchange.request_bytes,
                exchange.reply_bytes,
                adapter_allowance=self._config.adapter_allowance,
            )
        return wait

    async def exchange(self, state: BoardState, exchange: WireExchange[Any]) -> object:
        """The reply, a `BusFault`, or `Sent` for an exchange that expects no reply."""
        transport = self._port.transport
        if transport is None:
            raise PortLost(self._config.port, "other", None, "the port is closed")
        if exchange.expects_reply and not exchange.reply_optional:
            timeout = state.response_timeout or self._timeout(exchange)
        else:
            timeout = self._unanswered(exchange)
        # Retrying a read of a board that is already failing would double what
        # a dead board costs; a healthy board's single glitch is worth one more try.
        retry = (
            not exchange.is_write
            and self._config.read_retries > 0
            and state.health.state is Health.ONLINE
        )
        while True:
            attempt = await transact(
                transport,
                exchange,
                gap=self._gap,
                timeout=timeout,
                silence=self._silence,
                clock=self._clock,
            )
            self._stats.attempt(state.board, attempt)
            if isinstance(attempt.outcome, Sent):
                return attempt.outcome
            if answered(attempt.outcome):
                self._port.proved()
                return attempt.outcome
            if not retry:
                return attempt.outcome
            retry = False
            self._stats.retried()
