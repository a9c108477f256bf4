"""The control channel: JSON lines over TCP, on the loopback interface only.

One request per line, `{"cmd": "open", "compartment": "A03"}`; one answer
per line, `{"ok": true, ...}` or `{"ok": false, "error": {"code", "message"}}`.
Malformed input gets an error answer and the connection stays usable; an
over-long line closes it. Each connection has its own thread, so a long
`run` does not block a `status` from another terminal.
"""

from __future__ import annotations

import json
import socketserver
import sys
import threading
import traceback
from collections.abc import Callable

MAX_LINE = 1 << 20  # a scenario travels inside one request

Handle = Callable[[object], dict[str, object]]


def _error(code: str, message: str) -> dict[str, object]:
    return {"ok": False, "error": {"code": code, "message": message}}


def answer(handle: Handle, line: bytes) -> dict[str, object]:
    try:
        request = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _error("bad_json", f"not a JSON object: {exc}")
    try:
        return handle(request)
    except Exception as exc:  # a bug: answer it, show it, keep serving others
        traceback.print_exc(file=sys.stderr)
        return _error("internal", f"simulator bug: {exc!r}")


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while True:
            line = self.rfile.readline(MAX_LINE + 1)
            if not line:
                return
            if len(line) > MAX_LINE:
                self._send(_error("too_long", f"a request line is at most {MAX_LINE} bytes"))
                return
            if not line.strip():
                continue
            self._send(answer(self.server.handle_json, line))

    def _send(self, reply: dict[str, object]) -> None:
        try:
            self.wfile.write(json.dumps(reply).encode() + b"\n")
            self.wfile.flush()
        except OSError:
            pass  # the client went away; nothing to tell it


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, handle: Handle) -> None:
        self.handle_json = handle
        super().__init__(("127.0.0.1", port), _Handler)


class ControlServer:
    def __init__(self, handle: Handle, port: int = 0) -> None:
        self._server = _Server(port, handle)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
