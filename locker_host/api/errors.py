"""The HTTP API's errors, and the one place where a reply becomes a response.

Every error is ``{"ok": false, "error": {"code", "message", ...}}``, the app's
``Refusal.to_json()``. The status follows from the refusal's category alone
(``STATUS``), never from its code: a refusal of the locker, an ``ApiError``
of the API itself (authentication, roles, the kiosk's address) and a failed
validation are all refusals with a category::

    category          status   e.g.
    invalid           422      invalid, invalid_id_number, unknown_command, invalid_field
    unauthenticated   401      unauthenticated (no token, or not one of ours)
    denied            403      forbidden, kiosk_not_local, nothing_for_you, expired
    not_found         404      not_found
    conflict          409      compartment_busy, not_commissioned, layout_orphans_items
    unavailable       503      store_busy (the store cannot save: try again later),
                               too_many_streams (limits.py)
    internal          500      internal
    too_large         413      body_too_large (limits.py)
    headers_too_large 431      headers_too_large (limits.py)

Starlette's own 404 and 405 (an unknown path, a wrong method) keep their status.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from locker_host.app import CODES, Category, Done, Refusal, Reply

STATUS: dict[Category, int] = {
    Category.INVALID: 422,
    Category.UNAUTHENTICATED: 401,
    Category.DENIED: 403,
    Category.NOT_FOUND: 404,
    Category.CONFLICT: 409,
    Category.UNAVAILABLE: 503,
    Category.INTERNAL: 500,
    Category.TOO_LARGE: 413,
    Category.HEADERS_TOO_LARGE: 431,
}


def render_status_table() -> str:
    """docs/http-api.md's table: each category, its status, every registered code in it."""
    rows = ["| category | status | the locker's codes |", "|---|---|---|"]
    for category, status in sorted(STATUS.items(), key=lambda item: item[1]):
        codes = ", ".join(f"`{c}`" for c, k in sorted(CODES.items()) if k is category)
        rows.append(f"| {category.value} | {status} | {codes or 'the HTTP layer only'} |")
    return "\n".join(rows) + "\n"


class ApiError(Exception):
    """A refusal of the HTTP layer itself, raised from a dependency."""

    def __init__(self, category: Category, code: str, message: str, **inline: Any) -> None:
        super().__init__(message)
        self.refusal = Refusal(code, message, category, inline=inline)


def status_of(reply: Reply) -> int:
    match reply:
        case Done():
            return 200  # a summary (a staff card with nothing to do) says ok: false, is 200
        case Refusal():
            return STATUS[reply.category]


def reply_response(reply: Reply, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(reply.to_json(), status_code=status_of(reply), headers=headers)


def install(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        unauthenticated = exc.refusal.category is Category.UNAUTHENTICATED
        headers = {"WWW-Authenticate": "Bearer"} if unauthenticated else None
        return reply_response(exc.refusal, headers)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "invalid request"))
        return reply_response(Refusal("invalid", message, Category.INVALID, where or None))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = Refusal(code, str(exc.detail), Category.INVALID).to_json()
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The store's failures carry a registered code; anything else is our bug
        # (logged by Starlette).
        code = getattr(exc, "code", "")
        if isinstance(code, str) and CODES.get(code) is Category.UNAVAILABLE:
            message = "the locker cannot answer right now; try again"
            return reply_response(Refusal(code, message, Category.UNAVAILABLE))
        return reply_response(Refusal("internal", "an internal error", Category.INTERNAL))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
