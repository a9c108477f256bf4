"""What a job does with one board on the bus: start it, read it, unlock a
channel, acknowledge latches; each with its health bookkeeping.

The bus owner decides *when* (owner.py); this decides *what goes on the
wire* and what the replies mean for the board's state. Every transaction
goes through `exchange`, which leaves the inter-frame silence, applies the
response timeout, and retries a read of a healthy board once. A write is
never retried: a write whose reply was lost may well have been executed
(gateway notes 0.4), and an unlock is reported `unacknowledged` instead.
Only a lost port raises (`PortLost`); bus faults are values.
"""

from __future__ import annotations

from collections.abc import Callable

from protocol import BusFault, FaultKind
from protocol.modbus import Reply, Request

from .board_state import BoardState
from .config import BusConfig
from .drivers import Exchange, Reading, StartupKind
from .errors import PortLost
from .health import HealthEvent, HealthPolicy
from .model import Health, UnlockOutcome
from .port_keeper import PortKeeper
from .statistics import Recorder
from .timing import inter_frame_gap, response_timeout
from .transaction import transact

_REPLY, _NO_REPLY = HealthEvent.REPLY, HealthEvent.NO_REPLY


def answered(outcome: Reply | BusFault) -> bool:
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
        self._timeouts: dict[Request, float] = {}

    def record(self, state: BoardState, event: HealthEvent, detail: str = "") -> None:
        state.record(event, self._policy, self._clock(), detail)

    async def start(self, state: BoardState) -> bool:
        """Probe, all outputs off (once per owner), configure; stops at the first fault."""
        for step in state.driver.startup():
            if step.kind is StartupKind.OUTPUTS_OFF and state.outputs_off_done:
                continue
            outcome = await self.exchange(state, step.exchange)
            fault = (
                outcome
                if isinstance(outcome, BusFault)
                else state.driver.check_startup(step, outcome)
            )
            if fault is not None:
                self.record(state, _NO_REPLY, f"start-up {step.kind}: {fault}")
                return False
            if step.kind is StartupKind.OUTPUTS_OFF:
                state.outputs_off_done = True
        state.started = True
        self.record(state, _REPLY)
        return True

    async def read(self, state: BoardState) -> Reading | None:
        """One poll; the reading is also stored in `state`. None: it failed."""
        replies: list[Reply] = []
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
        reply = await self.exchange(state, state.driver.unlock(channel, pulse_ms))
        if not isinstance(reply, BusFault):
            self.record(state, _REPLY)
            return UnlockOutcome.ACKNOWLEDGED, ""
        if reply.kind is FaultKind.EXCEPTION_REPLY:
            self.record(state, _REPLY)
            return UnlockOutcome.REFUSED, str(reply)
        self.record(state, _NO_REPLY, f"unlock: {reply}")
        return UnlockOutcome.UNACKNOWLEDGED, str(reply)

    async def acknowledge(self, state: BoardState, exchange: Exchange) -> None:
        reply = await self.exchange(state, exchange)
        if answered(reply):
            self.record(state, _REPLY)
        else:
            self.record(state, _NO_REPLY, f"acknowledge: {reply}")

    def _timeout(self, request: Request) -> float:
        # The same few requests go out all day: encode each one's size once.
        timeout = self._timeouts.get(request)
        if timeout is None:
            timeout = self._timeouts[request] = response_timeout(
                self._config.format,
                request,
                slave_allowance=self._config.slave_allowance,
                adapter_allowance=self._config.adapter_allowance,
            )
        return timeout

    async def exchange(self, state: BoardState, exchange: Exchange) -> Reply | BusFault:
        transport = self._port.transport
        if transport is None:
            raise PortLost(self._config.port, "other", None, "the port is closed")
        timeout = state.response_timeout or self._timeout(exchange.request)
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
                exchange.unit,
                exchange.request,
                gap=self._gap,
                timeout=timeout,
                clock=self._clock,
            )
            self._stats.attempt(state.board, attempt)
            if answered(attempt.outcome):
                self._port.proved()
                return attempt.outcome
            if not retry:
                return attempt.outcome
            retry = False
            self._stats.retried()
