"""The documented error responses, shared by the routes (OpenAPI ``responses=``)."""

from __future__ import annotations

from typing import Any

from .limits import MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_STREAMS
from .models import ErrorReply

_ERROR: dict[str, Any] = {"model": ErrorReply}

UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {**_ERROR, "description": "the store cannot answer right now; nothing was done"},
}
LIMITS: dict[int | str, dict[str, Any]] = {
    413: {**_ERROR, "description": f"body_too_large: the body is over {MAX_BODY_BYTES} bytes"},
    431: {
        **_ERROR,
        "description": f"headers_too_large: request line and headers over {MAX_HEADER_BYTES} bytes",
    },
}
AUTHED: dict[int | str, dict[str, Any]] = {
    401: {**_ERROR, "description": "unauthenticated: no token, or an unknown one"},
    403: {**_ERROR, "description": "forbidden (the token's role), or kiosk_not_local"},
    422: {**_ERROR, "description": "invalid: a parameter or the body (``field`` says which)"},
    **UNAVAILABLE,
    **LIMITS,
}
REFUSALS: dict[int | str, dict[str, Any]] = {
    409: {
        **_ERROR,
        "description": "the locker refused: conflict, its state does not allow it now "
        "(busy, unknown, not now, a layout that would orphan items)",
    },
}
STREAM_FULL: dict[int | str, dict[str, Any]] = {
    503: {
        **_ERROR,
        "description": f"too_many_streams: {MAX_STREAMS} streams are open already (Retry-After), "
        "or the store cannot answer right now",
    },
}
