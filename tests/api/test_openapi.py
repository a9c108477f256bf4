"""The OpenAPI document is the contract: property tests (schemathesis) against a real
server on a real locker. For every operation, generated requests (valid and not)
with an admin token get no 5xx, only documented statuses and content types, and
bodies that match the documented schema. The examples are bounded (API_EXAMPLES,
default 15 per operation) so the default suite stays fast; raise it when hunting.

The stream never ends, so it is left out here (test_stream.py reads it)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from locker_host.api import openapi_document

from .rig import api_rig, auth
from .sse import serving

EXAMPLES = int(os.environ.get("API_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class LiveApi:
    """The API on a real locker, served by uvicorn from a thread of its own (the checks
    are synchronous), until ``stop``."""

    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.base_url = ""
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="live-api", daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(30), "the API did not start"
        if self.failure is not None:
            raise self.failure

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the test thread
            self.failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with api_rig(self._tmp_path) as rig, serving(rig.app) as base:
            self.base_url = base
            self._ready.set()
            await self._stop.wait()


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    api = LiveApi(tmp_path_factory.mktemp("live-api"))
    api.start()
    yield api
    api.stop()


SCHEMA = schemathesis.openapi.from_dict(openapi_document()).exclude(path="/api/v1/stream")
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


# schemathesis.pytest.from_fixture does not run under pytest 9 (its plugin reads a node
# attribute pytest no longer has), so each operation's strategy is driven here directly.
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_every_operation_keeps_to_the_contract(operation: object, live_api: LiveApi) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=live_api.base_url, headers=auth("admin"), timeout=30)
        case.validate_response(response, checks=CHECKS)

    check()
