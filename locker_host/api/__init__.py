"""The local HTTP API (FastAPI) and the static kiosk and staff pages.

An adapter (DESIGN.md section 2): it imports ``locker_host.app`` and
``locker_host.domain`` only; the daemon builds its ``ApiContext``. The
OpenAPI document is the contract (docs/openapi.json, docs/http-api.md).

  app.py          create_app(context): routes, /metrics, /api/v1/stream, the pages
  context.py      ApiContext and the figures the daemon supplies
  auth.py, deps.py   tokens and roles, the kiosk's addresses; FastAPI dependencies
  routes_locker.py   health, state, compartments, items, alarms, audit, boards
  routes_staff.py    open with a reason, service, recall
  routes_kiosk.py    services, swipe, drop-off, codes, cancel
  stream.py       Server-Sent Events (state, kiosk, alarm)
  metrics.py      Prometheus collector
  models.py       bodies (the OpenAPI schemas); views.py builds them
  errors.py       typed error bodies, code -> status
  server.py       HttpServer: uvicorn as a task of the daemon
  limits.py       bounds on bodies, heads and streams (413, 431, 503)
"""

from .app import OPENAPI_URL, create_app, openapi_document
from .auth import ApiToken, Network, Role, token_digest
from .context import (
    ApiContext,
    BoardFigures,
    BusFigures,
    DepartmentName,
    ReaderFigures,
)
from .server import HttpServer

__all__ = [
    "OPENAPI_URL",
    "ApiContext",
    "ApiToken",
    "BoardFigures",
    "BusFigures",
    "DepartmentName",
    "HttpServer",
    "Network",
    "ReaderFigures",
    "Role",
    "create_app",
    "openapi_document",
    "token_digest",
]
