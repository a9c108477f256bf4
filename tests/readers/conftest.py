"""Fixtures for the reader tests (async tests: see tests/conftest.py).

Every test here runs with logging captured at DEBUG, and fails if a raw test
ID number shows up in the log (DESIGN.md section 5: logs show a mask only).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from locker_host.domain import Keyring
from locker_host.readers import ReaderKeys

from .numbers import leaked

OWNER_SECRET = b"owner-secret-0123456789"
OLD_OWNER_SECRET = b"old-owner-secret-0123456789"


@pytest.fixture(autouse=True)
def no_id_number_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert not leaked(text), f"raw ID numbers in the log: {leaked(text)}"


@pytest.fixture
def keys() -> ReaderKeys:
    return ReaderKeys(
        owner=Keyring({1: OLD_OWNER_SECRET, 2: OWNER_SECRET}, current=2),
        codes=Keyring({1: b"code-secret-0123456789"}, current=1),
        staff=Keyring({1: b"staff-secret-0123456789"}, current=1),
    )
