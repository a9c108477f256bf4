"""``/metrics``: Prometheus text, collected from the live figures at each scrape.

Nothing is counted twice: the bus owners, the service, the store and the
MQTT bridge already keep their counters (``statistics()``); a custom
collector reads them when Prometheus scrapes, in a registry of the app's own
(no process-global state, so two apps in one test process do not clash).

    locker_bus_transactions_total{bus}          requests written
    locker_bus_replies_total{bus}               valid replies
    locker_bus_faults_total{bus,kind}           timeouts, bad CRCs, ... (errors)
    locker_bus_unlocks_total{bus,outcome}
    locker_bus_port_up{bus}                     1 while the serial port is open
    locker_bus_round_trip_seconds{bus,board}    histogram of valid replies
    locker_bus_poll_cycle_seconds{bus}          last cycle (every board read once)
    locker_bus_poll_cycle_max_seconds{bus}
    locker_board_up{bus,board}                  1 while the board answers (online)
    locker_compartments{state}                  compartments by state
    locker_alarms_open{acknowledged}            alarms waiting for a person
    locker_outbox_pending / _oldest_age_seconds / _head_seq / _dropped_total
    locker_mqtt_connected (and the bridge's counters, when there is a bridge)
    locker_service_{decisions,commits,pulses,board_reads}_total
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from locker_host.app import OutboxFigures
from locker_host.domain import active_alarms

from .context import ApiContext, BusFigures

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_MQTT_COUNTERS = (
    "connects",
    "disconnects",
    "connect_failures",
    "commands_received",
    "commands_refused",
    "events_published",
    "events_acked",
    "restarts",
    "takeovers",
)


class LockerCollector(Collector):
    def __init__(self, context: ApiContext) -> None:
        self._context = context
        # Read before each scrape, asynchronously (the store), by ``Metrics.render``.
        self._outbox: OutboxFigures | None = None

    def prepare(self, outbox: OutboxFigures) -> None:
        self._outbox = outbox

    def collect(self) -> Iterable[Metric]:
        yield from _bus_metrics(list(self._context.buses()))
        yield from self._locker()
        if self._outbox is not None:
            yield from _outbox(self._outbox)
        yield from self._mqtt()

    def _locker(self) -> Iterator[Metric]:
        service = self._context.service
        state = service.state
        by_state = GaugeMetricFamily(
            "locker_compartments", "Compartments by state", labels=["state"]
        )
        for name, count in sorted(
            Counter(c.state.value for c in state.compartments.values()).items()
        ):
            by_state.add_metric([name], count)
        yield by_state
        alarms = GaugeMetricFamily(
            "locker_alarms_open", "Alarms waiting for a person", labels=["acknowledged"]
        )
        found = active_alarms(state)
        acked = sum(a.acknowledged is not None for a in found)
        alarms.add_metric(["false"], len(found) - acked)
        alarms.add_metric(["true"], acked)
        yield alarms
        stats = service.statistics()
        for name in ("decisions", "commits", "pulses", "board_reads"):
            yield CounterMetricFamily(
                f"locker_service_{name}",
                f"Service {name.replace('_', ' ')}",
                value=getattr(stats, name),
            )

    def _mqtt(self) -> Iterator[Metric]:
        figures = self._context.mqtt()
        if figures is None:
            return
        yield GaugeMetricFamily(
            "locker_mqtt_connected",
            "1 while the MQTT session is up",
            value=1 if figures.get("connected") else 0,
        )
        for name in _MQTT_COUNTERS:
            value = figures.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                yield CounterMetricFamily(
                    f"locker_mqtt_{name}", f"MQTT {name.replace('_', ' ')}", value=value
                )


def _bus_metrics(buses: list[BusFigures]) -> Iterator[Metric]:
    transactions = CounterMetricFamily(
        "locker_bus_transactions", "Requests written to the bus", labels=["bus"]
    )
    replies = CounterMetricFamily("locker_bus_replies", "Valid replies", labels=["bus"])
    faults = CounterMetricFamily(
        "locker_bus_faults", "Bus faults by kind (timeouts, bad CRC, ...)", labels=["bus", "kind"]
    )
    unlocks = CounterMetricFamily(
        "locker_bus_unlocks", "Unlocks by outcome", labels=["bus", "outcome"]
    )
    port_up = GaugeMetricFamily(
        "locker_bus_port_up", "1 while the serial port is open", labels=["bus"]
    )
    cycle = GaugeMetricFamily(
        "locker_bus_poll_cycle_seconds", "Last poll cycle (every board read once)", labels=["bus"]
    )
    cycle_max = GaugeMetricFamily(
        "locker_bus_poll_cycle_max_seconds", "Longest poll cycle", labels=["bus"]
    )
    board_up = GaugeMetricFamily(
        "locker_board_up", "1 while the board answers", labels=["bus", "board"]
    )
    round_trips = HistogramMetricFamily(
        "locker_bus_round_trip_seconds",
        "Request to complete valid reply",
        labels=["bus", "board"],
    )
    for bus in buses:
        transactions.add_metric([bus.bus], bus.transactions)
        replies.add_metric([bus.bus], bus.replies)
        for kind, count in sorted(bus.faults.items()):
            faults.add_metric([bus.bus, kind], count)
        for outcome, count in sorted(bus.unlocks.items()):
            unlocks.add_metric([bus.bus, outcome], count)
        port_up.add_metric([bus.bus], 1 if bus.port_state == "open" else 0)
        if bus.cycle_time_last_s is not None:
            cycle.add_metric([bus.bus], bus.cycle_time_last_s)
        if bus.cycle_time_max_s is not None:
            cycle_max.add_metric([bus.bus], bus.cycle_time_max_s)
        for board in bus.boards:
            board_up.add_metric([bus.bus, board.board], 1 if board.health == "online" else 0)
            buckets: list[tuple[str, float]] = []
            running = 0
            for bound, count in board.round_trips:
                running += count  # Prometheus buckets are cumulative
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
            mean = board.round_trip_mean_s or 0.0
            round_trips.add_metric(
                [bus.bus, board.board], buckets, sum_value=mean * board.round_trip_count
            )
    yield from (
        transactions,
        replies,
        faults,
        unlocks,
        port_up,
        cycle,
        cycle_max,
        board_up,
        round_trips,
    )


def _outbox(figures: OutboxFigures) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "locker_outbox_pending", "Events waiting for the central ack", value=figures.pending
    )
    age = figures.oldest_pending_age_s
    yield GaugeMetricFamily(
        "locker_outbox_oldest_age_seconds",
        "Age of the oldest event waiting (0 when none)",
        value=0.0 if age is None else age,
    )
    yield GaugeMetricFamily("locker_outbox_head_seq", "Last event seq", value=figures.head_seq)
    yield CounterMetricFamily(
        "locker_outbox_dropped",
        "Events dropped by the retention bound",
        value=figures.dropped_total,
    )


class Metrics:
    def __init__(self, context: ApiContext) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._collector = LockerCollector(context)
        self.registry.register(self._collector)

    def render(self, outbox: OutboxFigures) -> bytes:
        self._collector.prepare(outbox)
        return generate_latest(self.registry)
