"""The link-breaking proxy itself (tcp_proxy.py), in the default suite: it is a test helper
other tests trust, so it gets its own checks against a loopback echo server."""

from __future__ import annotations

import asyncio

import pytest

from .tcp_proxy import TcpProxy


async def echo_server() -> asyncio.Server:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(echo, "127.0.0.1", 0)


async def test_passes_bytes_in_order_with_a_delay_and_holds_them_while_blocked() -> None:
    server = await echo_server()
    proxy = TcpProxy(server.sockets[0].getsockname()[1])
    await proxy.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    proxy.delay_s = 0.05
    for n in range(20):
        writer.write(f"{n},".encode())
    await writer.drain()
    expected = "".join(f"{n}," for n in range(20)).encode()
    got = b""
    while len(got) < len(expected):
        got += await asyncio.wait_for(reader.read(1024), 10)
    assert got == expected
    proxy.delay_s = 0.0
    proxy.block()
    writer.write(b"held")
    await writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(1024), 0.3)
    proxy.unblock()
    assert await asyncio.wait_for(reader.readexactly(4), 10) == b"held"
    proxy.reset()
    with pytest.raises(ConnectionResetError):  # an RST, not a FIN: not an orderly close
        await asyncio.wait_for(reader.read(1024), 10)
    writer.close()
    assert proxy.stats.connections == 1 and proxy.stats.resets == 1
    await proxy.close()
    server.close()
    await server.wait_closed()


async def test_upstream_down_resets_the_client_and_only_loopback_is_allowed() -> None:
    server = await echo_server()
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    proxy = TcpProxy(port)
    await proxy.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(1024), 10)
    writer.close()
    await proxy.close()
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        TcpProxy(1883, upstream_host="10.0.0.1")
