"""``HttpServer``: uvicorn as one task of the daemon, on a socket we bind ourselves.

Two things uvicorn does on its own would hurt a daemon: it installs SIGINT and
SIGTERM handlers (the daemon owns them: ``capture_signals`` is a no-op here),
and it calls ``sys.exit`` when it cannot bind (we bind first, so a port in
use is an ``OSError`` naming the address). Its logging configuration is left
alone (``log_config=None``): the daemon's JSON logs stay as they are. The
HTTP/1.1 protocol is h11's, bounded (``limits.LimitedH11Protocol``).

``run()`` serves until ``stop()`` (or cancellation): the stream's generators
end first (``StreamHub.close``) so that the graceful shutdown does not wait
for browsers that keep their EventSource open.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from .limits import LimitedH11Protocol
from .stream import StreamHub

SHUTDOWN_TIMEOUT_S = 3  # seconds (uvicorn takes an int)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: asyncio.Event) -> None:
        super().__init__(config)
        self._ready = ready

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready.set()


class HttpServer:
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._socket: socket.socket | None = None
        self._server: _Server | None = None
        self.started = asyncio.Event()

    def bind(self) -> tuple[str, int]:
        """Bind the listening socket now (an ``OSError`` if the address is taken)."""
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        self._socket = socket.create_server((self._host, self._port), family=family, backlog=64)
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    @property
    def port(self) -> int:
        assert self._socket is not None, "bind() first"
        return int(self._socket.getsockname()[1])

    async def run(self) -> None:
        if self._socket is None:
            self.bind()
        assert self._socket is not None
        config = uvicorn.Config(
            self._app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=SHUTDOWN_TIMEOUT_S,
            http=LimitedH11Protocol,  # the head bounded, its refusal typed (limits.py)
        )
        self._server = _Server(config, self.started)
        try:
            await self._server.serve(sockets=[self._socket])
        finally:
            self._socket.close()

    def stop(self) -> None:
        hub = self._app.state.hub
        assert isinstance(hub, StreamHub)
        hub.close()
        if self._server is not None:
            self._server.should_exit = True
