"""The HTTP API's side of the composition root: its context, and its server task.

`api_context` gives the API (an adapter that may not import the bus, the
readers, the MQTT bridge or the daemon) what it needs from them: the bus
owners' and the readers' statistics as the API's own figures, the MQTT
bridge's statistics through a callable (None until a bridge runs), and the
app's `Presentations`, which the kiosk endpoints call directly (kiosk.py
wires it, with a swipe parser over `readers.parse_swipe`).

`start_http` binds the configured address (an error names it), runs uvicorn
as a task of the daemon's task group and registers its clean stop on the
daemon's exit stack: at SIGTERM the HTTP server goes first, with the other
front doors, before the loops and the buses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from locker_host.api import (
    ApiContext,
    BoardFigures,
    BusFigures,
    DepartmentName,
    HttpServer,
    ReaderFigures,
    create_app,
)
from locker_host.app import LockerService, OperatorDesk, Presentations
from locker_host.bus import BusOwner, BusStatistics
from locker_host.readers import ThreadedReader

from .config import DaemonConfig
from .config.http import HttpSettings

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 5.0
MqttFigures = Callable[[], Mapping[str, Any] | None]


def bus_figures(stats: BusStatistics) -> BusFigures:
    return BusFigures(
        bus=stats.bus,
        port_path=stats.port.path,
        port_state=stats.port.state.value,
        port_losses=stats.port.losses,
        port_last_error=stats.port.last_error,
        transactions=stats.transactions,
        replies=stats.replies,
        faults=dict(stats.faults),
        unlocks=dict(stats.unlocks),
        cycle_time_last_s=stats.cycle_time_last,
        cycle_time_max_s=stats.cycle_time_max,
        boards=tuple(
            BoardFigures(
                board=str(b.board),
                health=b.health.value,
                identity=b.identity,
                transactions=b.transactions,
                replies=b.replies,
                faults=dict(b.faults),
                round_trips=b.round_trips.histogram,
                round_trip_count=b.round_trips.count,
                round_trip_mean_s=b.round_trips.mean,
                round_trip_max_s=b.round_trips.maximum,
            )
            for b in stats.boards
        ),
    )


def reader_figures(reader: ThreadedReader) -> ReaderFigures:
    stats = reader.statistics()
    return ReaderFigures(
        name=stats.name,
        available=bool(stats.available),
        readings=stats.readings,
        faults=stats.faults,
        last_fault=None if stats.last_fault is None else stats.last_fault.value,
        faults_by_code=stats.faults_by_code,
        line=stats.line,
        details=stats.details,
    )


def api_context(
    config: DaemonConfig,
    http: HttpSettings,
    *,
    service: LockerService,
    presentations: Presentations,
    owners: Sequence[BusOwner] = (),
    readers: Sequence[ThreadedReader] = (),
    commissioned: Callable[[], bool] = lambda: True,
    mqtt: MqttFigures | None = None,
) -> ApiContext:
    return ApiContext(
        service=service,
        operators=OperatorDesk(service),
        kiosk=presentations,
        tokens=http.tokens,
        kiosk_from=http.kiosk_from,
        buses=lambda: [bus_figures(owner.statistics()) for owner in owners],
        readers=lambda: [reader_figures(reader) for reader in readers],
        mqtt=mqtt or (lambda: None),
        commissioned=commissioned,
        departments=[DepartmentName(d.id, d.labels) for d in config.departments],
    )


async def start_http(
    http: HttpSettings,
    context: ApiContext,
    *,
    stack: contextlib.AsyncExitStack,
    spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
) -> HttpServer:
    server = HttpServer(create_app(context), http.bind, http.port)
    try:
        host, port = server.bind()
    except OSError as exc:
        raise OSError(f"[http] cannot listen on {http.bind}:{http.port}: {exc.strerror}") from None
    task = spawn(server.run())

    async def stop() -> None:
        server.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT_S)

    stack.push_async_callback(stop)
    await server.started.wait()
    shown = f"[{host}]" if ":" in host else host
    logger.info(
        "http serving", extra={"url": f"http://{shown}:{port}/", "tokens": len(http.tokens)}
    )
    return server
