"""Typed error bodies and the one place that maps codes to HTTP statuses.

Every error is ``{"ok": false, "error": {"code", "message", ...}}``, the app's
reply shape. A refusal from the locker (a reply dict with ``ok: false``)
keeps its body and gets the status of its family in the domain's error tree
(``domain/errors.py``): invalid input 422, denied 403, conflict 409; the
app's and the store's own codes are listed below. Failures of the API
itself (``ApiError``: authentication, roles, the kiosk's address, unknown
paths, validation) carry their own status.

    ApiError
      401 unauthenticated   no token, or not one of ours
      403 forbidden         the token's role may not do this
      403 kiosk_not_local   a kiosk endpoint from an address not in kiosk_from
      404 not_found, 405 method_not_allowed, 422 invalid
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from locker_host.app import JsonDict
from locker_host.domain import Conflict, Denied, InvalidInput, LockerError


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> JsonDict:
        return error_body(self.code, self.message, **self.extra)


def error_body(code: str, message: str, **extra: Any) -> JsonDict:
    return {"ok": False, "error": {"code": code, "message": message, **extra}}


def _family(cls: type[LockerError]) -> Iterator[type[LockerError]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _family(sub)


_STATUS: dict[str, int] = {
    **{c.code: 422 for c in _family(InvalidInput)},
    **{c.code: 403 for c in _family(Denied)},
    **{c.code: 409 for c in _family(Conflict)},
    # app/errors.py
    "invalid": 422,
    "unknown_card": 403,
    "expired": 403,
    "not_commissioned": 409,
    # readers/http_swipe.py
    "invalid_payload": 422,
    "missing_field": 422,
    "unexpected_field": 422,
    "invalid_field": 422,
    "unknown_kiosk": 403,
    "reader_mismatch": 422,
}
STORE_PREFIX = "store_"  # the store cannot save: try again later


def status_of(reply: JsonDict) -> int:
    error = reply.get("error")
    if reply.get("ok") or error is None:
        return 200  # a summary (a staff card's purposes) says ok: false without an error
    code = error.get("code", "") if isinstance(error, dict) else ""
    if code.startswith(STORE_PREFIX):
        return 503
    return _STATUS.get(code, 409)


def reply_response(reply: JsonDict) -> JSONResponse:
    return JSONResponse(reply, status_code=status_of(reply))


def install(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", "invalid request"))
        return JSONResponse(error_body("invalid", message, field=where or None), status_code=422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The store's errors carry a stable code; anything else is our bug (logged by Starlette).
        code = getattr(exc, "code", "")
        if isinstance(code, str) and code.startswith(STORE_PREFIX):
            body = error_body(code, "the locker cannot answer right now; try again")
            return JSONResponse(body, status_code=503)
        return JSONResponse(error_body("internal", "an internal error"), status_code=500)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
