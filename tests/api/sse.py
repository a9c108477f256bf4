"""A real server for the API (uvicorn on 127.0.0.1, a free port) and an SSE reader."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from locker_host.api import HttpServer

READ_TIMEOUT_S = 10.0


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    server = HttpServer(app, "127.0.0.1", 0)
    host, port = server.bind()
    task = asyncio.create_task(server.run())
    await asyncio.wait_for(server.started.wait(), READ_TIMEOUT_S)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        await asyncio.wait_for(task, READ_TIMEOUT_S)


@asynccontextmanager
async def open_stream(
    base: str, **request: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.Response]]:
    """A client on ``base`` and its open ``/api/v1/stream`` (``request``: headers, params)."""
    async with (
        httpx.AsyncClient(base_url=base, timeout=READ_TIMEOUT_S) as client,
        client.stream("GET", "/api/v1/stream", **request) as response,
    ):
        yield client, response


@dataclass(frozen=True)
class Event:
    event: str  # "" for a comment
    data: Any


class EventReader:
    """Reads an open ``text/event-stream`` response event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()

    async def next(self) -> Event:
        return await asyncio.wait_for(self._next(), READ_TIMEOUT_S)

    async def until(self, kind: str, predicate: Any = lambda data: True) -> Event:
        while True:
            event = await self.next()
            if event.event == kind and predicate(event.data):
                return event

    async def gather(self, *kinds: str) -> dict[str, Event]:
        """Read until one event of each kind has come (in any order); the last of each."""
        seen: dict[str, Event] = {}
        while not all(kind in seen for kind in kinds):
            event = await self.next()
            seen[event.event] = event
        return seen

    async def _next(self) -> Event:
        name, data = "", None
        async for line in self._lines:
            if line.startswith(":"):
                return Event("", line[1:].strip())
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: ") :])
            elif line == "" and name:
                return Event(name, data)
        raise EOFError("the stream ended")
