"""RTU framing over TCP on the loopback interface: the same line, another cable.

Each accepted connection is one master talking to the line; it gets back the
replies to its own requests, paced like the pty's. No MBAP header: the bytes
are RTU frames with their CRC, as a serial-to-Ethernet converter in
transparent mode passes them.
"""

from __future__ import annotations

import contextlib
import socket


class TcpPort:
    def __init__(self, port: int = 0) -> None:
        self._listener = socket.create_server(("127.0.0.1", port))
        self._listener.setblocking(False)
        self._conns: dict[str, socket.socket] = {}

    @property
    def address(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"{host}:{port}"

    def sockets(self) -> list[socket.socket]:
        return [self._listener, *self._conns.values()]

    def on_readable(self, sock: socket.socket) -> tuple[str, bytes] | None:
        """Accept a connection or read from one: (source, bytes) when data came."""
        if sock is self._listener:
            with contextlib.suppress(BlockingIOError):
                conn, peer = sock.accept()
                conn.setblocking(False)
                # replies go out a byte at a time at their wire time: no Nagle
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._conns[f"tcp:{peer[1]}"] = conn
            return None
        source = next((name for name, c in self._conns.items() if c is sock), None)
        if source is None:
            return None
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return None
        except OSError:
            data = b""
        if not data:
            self._drop(source)
            return None
        return source, data

    def write(self, source: str, data: bytes) -> None:
        conn = self._conns.get(source)
        if conn is None:
            return
        try:
            conn.send(data)
        except OSError:
            self._drop(source)

    def close(self) -> None:
        for source in list(self._conns):
            self._drop(source)
        self._listener.close()

    def _drop(self, source: str) -> None:
        conn = self._conns.pop(source, None)
        if conn is not None:
            conn.close()
