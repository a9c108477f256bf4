"""A small TCP proxy on 127.0.0.1 that breaks a link on demand (no netem here: shared notes §5).

    proxy = TcpProxy(upstream_port)      # then connect to proxy.port instead
    await proxy.start()
    proxy.delay_s = 0.3                  # every chunk arrives 0.3 s later, order kept
    proxy.block()                        # nothing passes either way (a partition); bytes
    proxy.unblock()                      # wait, as TCP would, and flow again when healed
    proxy.reset()                        # every open connection aborted with an RST
    await proxy.close()

One asyncio task pair per connection and direction: the reader stamps each chunk
with the time it may leave and queues it; the writer waits for that time and for
the gate, so a delay is latency (not a throughput cap) and order is never changed.
New connections are accepted while blocked and then wait at the gate too, the way a
SYN would get through a half-broken path and the first bytes not.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"


@dataclass
class ProxyStatistics:
    connections: int = 0
    resets: int = 0
    bytes_forwarded: int = 0


class TcpProxy:
    def __init__(self, upstream_port: int, *, upstream_host: str = LOOPBACK) -> None:
        if upstream_host != LOOPBACK:
            raise ValueError("the test proxy only forwards on this machine (127.0.0.1)")
        self.upstream = (upstream_host, upstream_port)
        self.delay_s = 0.0
        self.stats = ProxyStatistics()
        self._gate = asyncio.Event()
        self._gate.set()
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def blocked(self) -> bool:
        return not self._gate.is_set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, LOOPBACK, 0)

    def block(self) -> None:
        self._gate.clear()

    def unblock(self) -> None:
        self._gate.set()

    def reset(self) -> None:
        for client, upstream in list(self._links):
            for writer in (client, upstream):
                _reset(writer)
        self.stats.resets += 1

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.unblock()
        self.reset()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:  # the upstream is down: the client sees its connection reset
            _reset(writer)
            return
        self.stats.connections += 1
        link = (writer, up_writer)
        self._links.add(link)
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            self._tasks.difference_update(pumps)
            self._links.discard(link)
            for side in link:
                side.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if chunk == b"":
                    return
                await asyncio.sleep(max(0.0, due - loop.time()))
                await self._gate.wait()
                writer.write(chunk)
                await writer.drain()
                self.stats.bytes_forwarded += len(chunk)

        sender = asyncio.create_task(deliver())
        try:
            while True:
                chunk = await reader.read(65_536)
                queue.put_nowait((loop.time() + self.delay_s, chunk))
                if not chunk:
                    break
            await sender
        except (ConnectionError, OSError):
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await sender


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort with an RST, as a broken path or a refusing host does. A plain abort() closes
    the socket with a FIN, which a client takes for the broker ending the connection in
    order (mqtt_bridge/reconnect.py counts those toward the takeover loop)."""
    sock = writer.transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
