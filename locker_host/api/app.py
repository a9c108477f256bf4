"""``create_app(context)``: the FastAPI application, its routes and the static pages."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from locker_host.app import outbox_figures

from . import errors, limits, routes_kiosk, routes_locker, routes_staff
from .context import ApiContext
from .deps import Context, StreamCaller
from .metrics import CONTENT_TYPE, Metrics
from .responses import AUTHED, STREAM_FULL, UNAVAILABLE
from .stream import StreamHub

OPENAPI_URL = "/api/v1/openapi.json"
STATIC = ("kiosk", "staff", "assets")  # sub-directories of the pages, each at /<name>/

DESCRIPTION = """\
The locker's local HTTP API: the kiosk screen, the staff and technician
dashboard, health and metrics. Tokens: `Authorization: Bearer <token>`
(the stream also takes `?token=`), each with a role (kiosk, staff,
technician, admin). Every reply is `{"ok": true, ...}` or
`{"ok": false, "error": {"code", "message", ...}}`. Never an ID number.
""" + (
    f"Bounds: a request body over {limits.MAX_BODY_BYTES} bytes is refused with 413\n"
    "`body_too_large` (a declared Content-Length at once, a chunked body as it passes\n"
    f"the limit); a request line and headers over {limits.MAX_HEADER_BYTES} bytes with 431\n"
    f"`headers_too_large`; a stream past {limits.MAX_STREAMS} open at once with 503\n"
    "`too_many_streams`.\n"
)


def _version() -> str:
    try:
        return metadata.version("locker-controller")
    except metadata.PackageNotFoundError:
        return "0"


def create_app(context: ApiContext) -> FastAPI:
    app = _routes()
    app.state.context = context
    app.state.hub = StreamHub(context)
    app.state.metrics = Metrics(context)
    if context.pages is not None:
        for name in STATIC:
            directory = context.pages / name
            if directory.is_dir():
                app.mount(f"/{name}", StaticFiles(directory=directory, html=True), name=name)
    return app


def openapi_document() -> dict[str, Any]:
    """The contract (docs/openapi.json): the routes alone, no locker needed."""
    return _routes().openapi()


def _routes() -> FastAPI:
    app = FastAPI(
        title="Locker controller",
        version=_version(),
        description=DESCRIPTION,
        openapi_url=OPENAPI_URL,
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    errors.install(app)
    app.add_middleware(limits.RequestLimits)
    app.include_router(routes_locker.router)
    app.include_router(routes_staff.router)
    app.include_router(routes_kiosk.router)

    @app.get(
        "/api/v1/stream",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
                "description": "events `state`, `kiosk`, `alarm`; a `: ping` every 15 s",
            },
            **AUTHED,
            **STREAM_FULL,
        },
        tags=["live"],
    )
    async def stream(request: Request, caller: StreamCaller) -> Response:
        """Server-Sent Events: the snapshot on connect and after changes (at most one per
        100 ms), every kiosk outcome, every alarm raised, acknowledged or cleared."""
        hub = request.app.state.hub
        assert isinstance(hub, StreamHub)
        events = hub.admit()
        if events is None:
            return limits.too_many_streams()
        return StreamingResponse(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.get(
        "/metrics",
        response_class=Response,
        responses={
            200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}},
            **UNAVAILABLE,
        },
        tags=["operations"],
    )
    async def prometheus(request: Request, context: Context) -> Response:
        """Prometheus text format. No token."""
        metrics = request.app.state.metrics
        assert isinstance(metrics, Metrics)
        body = metrics.render(await outbox_figures(context.service))
        return Response(body, media_type=CONTENT_TYPE)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/kiosk/")

    return app
