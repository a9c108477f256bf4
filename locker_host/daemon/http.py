"""The HTTP API's side of the composition root: its context, and its server task.

`api_context` gives the API (an adapter that may not import the bus, the
readers or the MQTT bridge) what it needs from them: the bus owners' and the
readers' statistics as the API's own figures, the MQTT bridge's statistics
through a callable (None until a bridge runs), and `PresentationsKiosk`, the
kiosk screen's actions carried out by the daemon's `Presentations` (a swipe
forwarded by a kiosk app is checked by `readers.parse_swipe` first).

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
    KioskOutcome,
    ReaderFigures,
    Role,
    ServiceOffer,
    create_app,
)
from locker_host.app import (
    Category,
    Done,
    InvalidPayload,
    JsonDict,
    Keys,
    LockerService,
    OperatorDesk,
    Refusal,
    Reply,
    refusal,
)
from locker_host.bus import BusOwner, BusStatistics
from locker_host.domain import CodePurpose, Size
from locker_host.readers import (
    KioskEntry,
    ReaderKeys,
    SwipeError,
    SwipeErrorCode,
    ThreadedReader,
    parse_swipe,
)

from .config import DaemonConfig
from .config.http import HttpSettings
from .presentations import Presentations

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 5.0
MqttFigures = Callable[[], Mapping[str, Any] | None]


def _swipe_refusal(problem: SwipeError) -> Refusal:
    unknown = problem.code is SwipeErrorCode.UNKNOWN_KIOSK
    category = Category.DENIED if unknown else Category.INVALID
    return Refusal(problem.code.value, problem.message, category, problem.field)


class PresentationsKiosk:
    """``locker_host.api.KioskPort`` over the daemon's ``Presentations``."""

    def __init__(
        self, config: DaemonConfig, keys: Keys, presentations: Presentations, http: HttpSettings
    ) -> None:
        self._config = config
        self._keys = keys
        self._presentations = presentations
        # The kiosk app's token identifies the kiosk for parse_swipe (has_sam: a strong card).
        self._kiosks = tuple(
            KioskEntry(t.name, t.sha256, t.has_sam)
            for t in http.tokens
            if t.role in (Role.KIOSK, Role.ADMIN)
        )

    def services(self) -> Sequence[ServiceOffer]:
        return [
            ServiceOffer(
                s.name,
                s.labels.get("zh", s.name),
                s.labels.get("en", s.name),
                s.department,
                s.size.value,
            )
            for s in self._config.services
        ]

    def sizes(self) -> Sequence[str]:
        present = {spec.size for spec in self._config.locker.layout}
        return [size.value for size in Size if size in present]

    def armed(self) -> JsonDict | None:
        return self._presentations.armed_view()

    def arm(self, service: str, size: str | None, accessible: bool) -> Reply:
        chosen = self._config.service(service)
        if chosen is None:
            known = ", ".join(s.name for s in self._config.services) or "none configured"
            message = f"one of the configured services ({known})"
            return refusal(InvalidPayload(message, field="service"))
        self._presentations.arm_dropoff(
            chosen, accessible=accessible, size=None if size is None else Size(size), source="http"
        )
        return Done({"armed": self.armed()})

    def disarm(self) -> Reply:
        self._presentations.disarm(source="http")
        return Done({"armed": None})

    async def enter_code(self, code: str, purpose: str, accessible: bool) -> Reply:
        return await self._presentations.enter_code(
            code, CodePurpose(purpose), accessible=accessible
        )

    async def swipe(self, payload: Mapping[str, Any]) -> Reply:
        staff = self._keys.staff
        if staff is None and "staff_card" in payload:
            return _swipe_refusal(
                SwipeError(
                    SwipeErrorCode.INVALID_FIELD, "staff_card", "no staff cards are configured here"
                )
            )
        # Without staff keys no staff card gets this far (above): the codes keyring only
        # fills the slot.
        keys = ReaderKeys(self._keys.owner, self._keys.codes, staff or self._keys.codes)
        reading = parse_swipe(payload, self._kiosks, keys)
        if isinstance(reading, SwipeError):
            return _swipe_refusal(reading)
        reply = await self._presentations.handle(reading, source="http")
        assert reply is not None  # a swipe is a card, a staff card or a code
        return reply

    def add_listener(self, listener: Callable[[KioskOutcome], None]) -> Callable[[], None]:
        return self._presentations.add_listener(listener)


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
    )


def api_context(
    config: DaemonConfig,
    http: HttpSettings,
    keys: Keys,
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
        kiosk=PresentationsKiosk(config, keys, presentations, http),
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
