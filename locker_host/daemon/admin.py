"""`lockerd admin`: the running daemon's application command API on a local socket.

Theory of operation. The daemon listens on a Unix socket (mode 0660, in a
directory only the daemon's group can enter), so reaching it already takes
a local account with the right group; there is no network listener. Each
request is one JSON line, `{"command": NAME, "payload": {...}}`, answered
by one JSON line. NAME is any command of the application command API
(reserve, cancel, expect_dropoff, extend_deadline, recall_list, open,
set_service, inventory) or one of the daemon's own: `state` (the published
snapshot), `ping`. Replies are the app's `Reply` values, serialised here
(`to_json`), one line each; a line that is not JSON, or not an object, gets
`invalid` and the connection stays usable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from locker_host.app import InvalidPayload, Reply, refusal

JsonDict = dict[str, Any]
Handler = Callable[[str, object], Awaitable[Reply]]

MAX_LINE = 1 << 20  # a command is a few hundred bytes; a megabyte is abuse


def _invalid(message: str, field: str | None = None) -> Reply:
    return refusal(InvalidPayload(message, field=field))


class AdminServer:
    def __init__(self, path: Path, handle: Handler) -> None:
        self.path = path
        self._handle = handle
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        if self.path.exists() or self.path.is_symlink():
            if _someone_listens(self.path):
                raise OSError(f"{self.path}: another daemon is already listening there")
            self.path.unlink()  # a stale socket from a daemon that was killed
        old_umask = os.umask(0o117)  # the socket is born 0660
        try:
            self._server = await asyncio.start_unix_server(
                self._client, path=str(self.path), limit=MAX_LINE
            )
        finally:
            os.umask(old_umask)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    writer.write(
                        _line(_invalid(f"a request is at most {MAX_LINE} bytes").to_json())
                    )
                    break
                if not line:
                    break
                writer.write(_line((await self._answer(line)).to_json()))
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, line: bytes) -> Reply:
        try:
            request = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _invalid(f"not a JSON line: {exc}")
        if not isinstance(request, dict):
            return _invalid("a request is a JSON object", "$")
        name = request.get("command")
        if not isinstance(name, str) or not name:
            return _invalid("command: a non-empty string is required", "command")
        payload = request.get("payload", {})
        return await self._handle(name, payload)


def _line(reply: JsonDict) -> bytes:
    return json.dumps(reply, ensure_ascii=False).encode() + b"\n"


def _someone_listens(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


def call(path: Path, command: str, payload: object, *, timeout: float = 30.0) -> JsonDict:
    """The client side, blocking (for the CLI)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        try:
            conn.connect(str(path))
        except OSError as exc:
            raise ConnectionError(
                f"cannot reach lockerd at {path}: {exc.strerror or exc}"
            ) from None
        conn.sendall(_line({"command": command, "payload": payload}))
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError("lockerd closed the connection without answering")
            data += chunk
    reply: JsonDict = json.loads(data)
    return reply
