"""How much the HTTP server reads from one request, and how many streams it serves.

Theory of operation. Every body the API takes is a few hundred bytes (a
reason, a code, a card's reading), yet without a bound the server read a 20 MB
body whole before validation refused it. The bounds are enforced where the
bytes arrive, before anything is parsed:

* the request line and headers: ``MAX_HEADER_BYTES``. h11 (the server's HTTP/1.1
  parser) buffers an incomplete head up to that size and refuses beyond it
  (``LimitedH11Protocol``); a complete head that arrived in one read is
  measured again before routing (``RequestLimits``). Past it: 431
  ``headers_too_large`` (RFC 6585 section 5).
* the body: ``MAX_BODY_BYTES``. A declared ``Content-Length`` past it is refused
  before a byte of the body is read; a chunked body is counted while it arrives
  and refused as soon as it passes the limit. Past it: 413 ``body_too_large``
  (RFC 9110 section 15.5.14), and the connection is closed, so the rest of the
  body is not read either. Bodies within the limit are read by this
  middleware and handed on whole: they are small.
* Server-Sent Events clients: ``MAX_STREAMS`` at once (each holds a queue and a
  snapshot per change); one more gets 503 ``too_many_streams``
  (``StreamHub.admit``).

Each refusal is the API's typed error body (``errors.py``); its status follows
from its category, as for every other refusal.
"""

from __future__ import annotations

import json

import h11
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from locker_host.app import Category, Refusal

from .errors import STATUS, reply_response

MAX_BODY_BYTES = 64 * 1024
MAX_HEADER_BYTES = 8 * 1024
MAX_STREAMS = 32
RETRY_STREAM_AFTER_S = 30
_CLOSE = {"Connection": "close"}


def body_too_large() -> Refusal:
    message = f"the request body is larger than {MAX_BODY_BYTES} bytes"
    return Refusal(
        "body_too_large", message, Category.TOO_LARGE, details={"limit_bytes": MAX_BODY_BYTES}
    )


def headers_too_large() -> Refusal:
    message = f"the request line and headers are larger than {MAX_HEADER_BYTES} bytes"
    return Refusal(
        "headers_too_large",
        message,
        Category.HEADERS_TOO_LARGE,
        details={"limit_bytes": MAX_HEADER_BYTES},
    )


def too_many_streams() -> JSONResponse:
    message = f"{MAX_STREAMS} event streams are open already; try again later"
    refusal = Refusal(
        "too_many_streams", message, Category.UNAVAILABLE, details={"limit": MAX_STREAMS}
    )
    return reply_response(refusal, {"Retry-After": str(RETRY_STREAM_AFTER_S)})


class RequestLimits:
    """ASGI middleware: the head measured, the body bounded before the app sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _head_bytes(scope) > MAX_HEADER_BYTES:
            await reply_response(headers_too_large(), _CLOSE)(scope, receive, send)
            return
        headers = dict(scope["headers"])  # h11 refuses a repeated Content-Length
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body: the stream, the pages, GETs
            return
        if declared is not None and int(declared) > MAX_BODY_BYTES:
            await reply_response(body_too_large(), _CLOSE)(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nothing to answer
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:  # a chunked body, counted as it arrives
                await reply_response(body_too_large(), _CLOSE)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, once; then the server's own messages (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _head_bytes(scope: Scope) -> int:
    """The request line and header lines as they were on the wire (CRLFs counted)."""
    target = len(scope["raw_path"]) + (
        len(scope["query_string"]) + 1 if scope["query_string"] else 0
    )
    line = len(scope["method"]) + 1 + target + len(" HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in scope["headers"]) + 2


class _Connection(h11.Connection):
    """h11's connection, remembering why it last refused the peer's bytes."""

    refused_head = False

    def next_event(self) -> type[h11.NEED_DATA] | type[h11.PAUSED] | h11.Event:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            # h11 hints 431 only when an incomplete event passes max_incomplete_event_size.
            self.refused_head = exc.error_status_hint == 431
            raise


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the head bounded at ``MAX_HEADER_BYTES`` and the
    refusal in the API's typed body, not uvicorn's plain-text 400."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.conn = _Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)

    def send_400_response(self, msg: str) -> None:
        conn = self.conn
        if not (isinstance(conn, _Connection) and conn.refused_head):
            super().send_400_response(msg)
            return
        refusal = headers_too_large()
        body = json.dumps(refusal.to_json()).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        status = STATUS[refusal.category]
        self.transport.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
        self.transport.write(conn.send(h11.Data(data=body)) or b"")
        self.transport.write(conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()
