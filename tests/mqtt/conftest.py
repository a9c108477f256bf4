"""A real Mosquitto per test on a free loopback port; the contract checks every message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.conftest import db_path

from .broker import Mosquitto
from .contract import Contract

__all__ = ["broker", "contract", "db_path"]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path / "broker")
    mosquitto.start()
    try:
        yield mosquitto
    finally:
        mosquitto.kill()


@pytest.fixture
def contract() -> Iterator[Contract]:
    checked = Contract()
    yield checked
    assert not checked.violations, "messages broke the contract:\n" + "\n".join(
        checked.violations[:20]
    )
