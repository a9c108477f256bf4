from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from locker_host.store import Store


@pytest.fixture
def now() -> datetime:
    return datetime(2021, 6, 1, 8, 30, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "locker.db"


@pytest.fixture
def store(db_path: Path, now: datetime) -> Iterator[Store]:
    opened = Store.open(db_path, now=now)
    yield opened
    opened.close()
