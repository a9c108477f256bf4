"""The server's bounds (issue 14.4), against the real server over a socket.

Bodies past ``MAX_BODY_BYTES`` get 413 before they are read whole: a declared
Content-Length at once, a chunked body as soon as it passes the limit (these
requests never finish sending: a server that waited for the end would not
answer at all). Heads past ``MAX_HEADER_BYTES`` get 431, complete or not.
Streams past ``MAX_STREAMS`` get 503. Each answer is the typed error body.
Raw sockets, so that nothing between the test and the server fixes the bytes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from locker_host.api.limits import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_STREAMS,
    RETRY_STREAM_AFTER_S,
)

from .rig import TOKENS, api_rig, auth
from .sse import READ_TIMEOUT_S, EventReader, serving

HTTP_API_MD = Path(__file__).resolve().parents[2] / "docs" / "http-api.md"
KIOSK = f"Authorization: Bearer {TOKENS['kiosk']}\r\n"
DROPOFF = "/api/v1/kiosk/dropoff"


@asynccontextmanager
async def locker(tmp_path: Path) -> AsyncIterator[tuple[str, int]]:
    async with api_rig(tmp_path) as rig, serving(rig.app) as base:
        address = urlsplit(base)
        assert address.hostname is not None and address.port is not None
        yield address.hostname, address.port


async def exchange(address: tuple[str, int], *parts: bytes) -> tuple[int, dict[str, str], Any]:
    """Send ``parts`` and read the one response (status, headers, JSON body)."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        for part in parts:
            writer.write(part)
            await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT_S)
        return int(status_line.split()[1]), headers, json.loads(body) if body else None
    finally:
        writer.close()


def post_head(extra: str) -> bytes:
    return (
        f"POST {DROPOFF} HTTP/1.1\r\nHost: locker\r\n{KIOSK}"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def refused(status: int, headers: dict[str, str], body: Any, code: str) -> None:
    assert body["ok"] is False and body["error"]["code"] == code, body
    assert headers["content-type"] == "application/json"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


async def test_a_declared_body_past_the_limit_is_refused_before_it_is_sent(
    tmp_path: Path,
) -> None:
    async with locker(tmp_path) as address:
        # 20 MB declared, 1 KiB sent: the answer cannot wait for the rest.
        status, headers, body = await exchange(
            address, post_head(f"Content-Length: {20 * 1024 * 1024}\r\n"), b"{" + b" " * 1023
        )
        assert status == 413
        refused(status, headers, body, "body_too_large")
        assert body["error"]["details"] == {"limit_bytes": MAX_BODY_BYTES}
        assert headers["connection"] == "close"  # the rest is not read either


async def test_a_chunked_body_is_counted_while_it_arrives(tmp_path: Path) -> None:
    async with locker(tmp_path) as address:
        # One byte past the limit in 4 KiB chunks, and no last chunk: never finished.
        piece = b" " * 4096
        chunks = [chunk(piece)] * (MAX_BODY_BYTES // len(piece)) + [chunk(b" ")]
        status, headers, body = await exchange(
            address, post_head("Transfer-Encoding: chunked\r\n"), b"".join(chunks)
        )
        assert status == 413
        refused(status, headers, body, "body_too_large")


async def test_a_body_at_the_limit_is_read_and_validated(tmp_path: Path) -> None:
    # The bound is MAX_BODY_BYTES itself: such a body is read, then refused as JSON.
    payload = json.dumps({"service": "licence", "pad": ""}).encode()
    payload = payload[:-2] + b" " * (MAX_BODY_BYTES - len(payload)) + payload[-2:]
    assert len(payload) == MAX_BODY_BYTES
    async with locker(tmp_path) as address:
        sized = await exchange(address, post_head(f"Content-Length: {len(payload)}\r\n") + payload)
        assert sized[0] == 422 and sized[2]["error"]["field"] == "body.pad", sized[2]
        chunked = await exchange(
            address,
            post_head("Transfer-Encoding: chunked\r\n"),
            chunk(payload[:1000]) + chunk(payload[1000:]) + b"0\r\n\r\n",
        )
        assert chunked[0] == 422 and chunked[2]["error"]["field"] == "body.pad", chunked[2]


def get_head(filler: int, *, end: bool = True) -> bytes:
    head = f"GET /api/v1/health HTTP/1.1\r\nHost: locker\r\nX-Filler: {'f' * filler}\r\n"
    return (head + ("\r\n" if end else "")).encode()


async def test_a_head_past_the_limit_is_refused_whole_or_still_arriving(tmp_path: Path) -> None:
    async with locker(tmp_path) as address:
        whole = get_head(MAX_HEADER_BYTES + 4096)
        status, headers, body = await exchange(address, whole)
        assert status == 431
        refused(status, headers, body, "headers_too_large")
        assert body["error"]["details"] == {"limit_bytes": MAX_HEADER_BYTES}
        # Still arriving (no blank line yet): refused once the buffer passes the limit.
        status, headers, body = await exchange(
            address, get_head(MAX_HEADER_BYTES + 4096, end=False)
        )
        assert status == 431
        refused(status, headers, body, "headers_too_large")
        # Within the limit: served.
        fits = get_head(MAX_HEADER_BYTES - 200)
        assert len(fits) <= MAX_HEADER_BYTES
        status, _, body = await exchange(address, fits)
        assert status == 200 and body["ok"] is True


async def test_streams_past_the_limit_are_refused_until_one_ends(tmp_path: Path) -> None:
    params = {"token": TOKENS["kiosk"]}
    async with api_rig(tmp_path) as rig, serving(rig.app) as base:
        limits = httpx.Limits(max_connections=MAX_STREAMS + 2)
        async with httpx.AsyncClient(
            base_url=base, timeout=READ_TIMEOUT_S, limits=limits
        ) as client:
            async with AsyncExitStack() as streams:
                readers = []  # kept: a reader dropped half-way closes its connection
                for _ in range(MAX_STREAMS):
                    response = await streams.enter_async_context(
                        client.stream("GET", "/api/v1/stream", params=params)
                    )
                    assert response.status_code == 200
                    readers.append(EventReader(response))
                    assert (await readers[-1].next()).event == "state"
                one_more = await client.get("/api/v1/stream", params=params)
                assert one_more.status_code == 503
                assert one_more.json()["error"]["code"] == "too_many_streams"
                assert one_more.json()["error"]["details"] == {"limit": MAX_STREAMS}
                assert one_more.headers["retry-after"].isdigit()
                # the rest of the API still answers
                health = await client.get("/api/v1/state", headers=auth("kiosk"))
                assert health.status_code == 200
            # Every stream closed by the client: once the server has seen them go
            # (bounded wait), a new one is served again.
            for _ in range(100):
                async with client.stream("GET", "/api/v1/stream", params=params) as again:
                    if again.status_code == 200:
                        assert (await EventReader(again).next()).event == "state"
                        break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the closed streams were never released")


def test_docs_http_api_states_the_limits_of_the_code() -> None:
    text = HTTP_API_MD.read_text()
    limits = text[text.index("## Limits") : text.index("## Endpoints")]
    rows = [ln for ln in limits.splitlines() if ln.startswith("| ") and "---" not in ln]
    assert rows[1].startswith(f"| request body | {MAX_BODY_BYTES} bytes |")
    assert f'"limit_bytes": {MAX_BODY_BYTES}' in rows[1]
    assert rows[2].startswith(f"| request line and headers | {MAX_HEADER_BYTES} bytes")
    assert f'"limit_bytes": {MAX_HEADER_BYTES}' in rows[2]
    assert rows[3].startswith(f"| open `GET /stream` at once | {MAX_STREAMS} |")
    assert f"Retry-After: {RETRY_STREAM_AFTER_S}`" in rows[3]
    assert f'"limit": {MAX_STREAMS}' in rows[3]


async def test_a_stream_admitted_but_never_started_is_counted_out(tmp_path: Path) -> None:
    # A client gone before its first byte: the generator never runs, so its
    # finally cannot release the place; dropping the generator does.
    async with api_rig(tmp_path) as rig:
        hub = rig.app.state.hub
        streams = [hub.admit() for _ in range(MAX_STREAMS)]
        assert all(s is not None for s in streams) and hub.clients == MAX_STREAMS
        assert hub.admit() is None
        del streams
        assert hub.clients == 0
        assert hub.admit() is not None
