"""An HTTP API on a whole locker: the daemon's parts (real SQLite file, real service,
the app's Presentations) with ``[http]`` tokens of every role, and clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from locker_host.api import ApiContext, create_app, token_digest
from locker_host.daemon.http import api_context
from tests.daemon.parts import Parts

TOKENS = {
    "kiosk": "kiosk-token-0123456789abcdef",
    "staff": "staff-token-0123456789abcdef",
    "technician": "tech-token-0123456789abcdef",
    "admin": "admin-token-0123456789abcdef",
}
LOCAL = ("127.0.0.1", 50_000)
REMOTE = ("192.0.2.7", 50_000)  # TEST-NET-1: never routed, only an ASGI scope here


def http_table(port: int = 0) -> dict[str, Any]:
    return {
        "bind": "127.0.0.1",
        "port": port,
        "kiosk_from": ["127.0.0.1/32", "::1/128"],
        "tokens": [
            {
                "name": f"{role}-1",
                "role": role,
                "sha256": token_digest(token),
                **({"has_sam": True} if role == "kiosk" else {}),
            }
            for role, token in TOKENS.items()
        ],
    }


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


@dataclass
class Rig:
    parts: Parts
    context: ApiContext
    app: FastAPI
    _apps: list[FastAPI] = field(default_factory=list)

    def app_with(self, **changes: Any) -> FastAPI:
        """Another app on the same locker, with other context settings (intervals)."""
        app = create_app(replace(self.context, **changes))
        self._apps.append(app)
        return app

    def close(self) -> None:
        for app in (self.app, *self._apps):
            app.state.hub.close()

    def client(
        self, role: str | None = "admin", *, peer: tuple[str, int] = LOCAL
    ) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=peer)
        headers = auth(role) if role else {}
        return httpx.AsyncClient(transport=transport, base_url="http://locker", headers=headers)


@asynccontextmanager
async def api_rig(tmp_path: Path, **changes: Any) -> AsyncIterator[Rig]:
    parts = await Parts.open(tmp_path, changes={"http": http_table(), **changes})
    try:
        http = parts.config.http
        assert http is not None
        context = api_context(
            parts.config, http, service=parts.service, presentations=parts.presentations
        )
        rig = Rig(parts, context, create_app(context))
        try:
            yield rig
        finally:
            rig.close()
    finally:
        await parts.close()
