"""FastAPI dependencies: the context, and the caller with the grant an endpoint needs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from locker_host.app import Category

from .auth import GRANTS, Caller, Grant, address_allowed, find_token
from .context import ApiContext
from .errors import ApiError

bearer = HTTPBearer(
    auto_error=False, description="a token from [[http.tokens]] (`lockerd hash-token`)"
)
query_token = APIKeyQuery(
    name="token",
    auto_error=False,
    description="the stream only: EventSource cannot set headers",
)


def context_of(request: Request) -> ApiContext:
    context = request.app.state.context
    assert isinstance(context, ApiContext)
    return context


Context = Annotated[ApiContext, Depends(context_of)]


def _authorise(request: Request, grant: Grant, presented: str | None) -> Caller:
    context = context_of(request)
    if not presented:
        message = "send Authorization: Bearer <token>"
        raise ApiError(Category.UNAUTHENTICATED, "unauthenticated", message)
    token = find_token(context.tokens, presented)
    if token is None:
        message = "this token is not configured here"
        raise ApiError(Category.UNAUTHENTICATED, "unauthenticated", message)
    if grant is Grant.KIOSK:
        host = request.client.host if request.client else None
        if not address_allowed(host, context.kiosk_from):
            message = "kiosk endpoints answer the kiosk's addresses only"
            raise ApiError(Category.DENIED, "kiosk_not_local", message)
    if token.role not in GRANTS[grant]:
        message = f"a {token.role.value} token may not do this"
        raise ApiError(Category.DENIED, "forbidden", message, role=token.role.value)
    return Caller(token, presented)


def needs(grant: Grant) -> Any:
    """``Depends`` on a caller holding ``grant`` (bearer token only)."""

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> Caller:
        return _authorise(request, grant, credentials.credentials if credentials else None)

    return Depends(dependency)


def needs_stream(grant: Grant) -> Any:
    """The same, with ``?token=`` accepted too (for EventSource)."""

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
        token: Annotated[str | None, Security(query_token)],
    ) -> Caller:
        presented = credentials.credentials if credentials else token
        return _authorise(request, grant, presented)

    return Depends(dependency)


LiveCaller = Annotated[Caller, needs(Grant.LIVE)]
ReadCaller = Annotated[Caller, needs(Grant.READ)]
StaffCaller = Annotated[Caller, needs(Grant.STAFF)]
ServiceCaller = Annotated[Caller, needs(Grant.SERVICE)]
BoardsCaller = Annotated[Caller, needs(Grant.BOARDS)]
ExportCaller = Annotated[Caller, needs(Grant.EXPORT)]
KioskCaller = Annotated[Caller, needs(Grant.KIOSK)]
StreamCaller = Annotated[Caller, needs_stream(Grant.LIVE)]
