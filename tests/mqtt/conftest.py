"""A real Mosquitto per test on a free loopback port; the contract checks every message.

Every test on a broker runs twice, the locker and the central clients speaking MQTT 5
and then MQTT 3.1.1 (``protocol``); a test marked ``mqtt5`` needs what 3.1.1 does not
have and is skipped in the 3.1.1 run (its 3.1.1 counterpart, if any, says so)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.conftest import db_path

from .broker import Mosquitto
from .contract import Contract

__all__ = ["broker", "contract", "db_path", "protocol"]


@pytest.fixture(params=["5", "3.1.1"], ids=["mqtt5", "mqtt311"])
def protocol(request: pytest.FixtureRequest) -> str:
    marker = request.node.get_closest_marker("mqtt5")
    if marker is not None and request.param != "5":
        pytest.skip(f"MQTT 5 only: {marker.args[0] if marker.args else 'needs MQTT 5'}")
    only = request.node.get_closest_marker("mqtt311")
    if only is not None and request.param != "3.1.1":
        pytest.skip(f"MQTT 3.1.1 only: {only.args[0] if only.args else 'the 3.1.1 counterpart'}")
    return str(request.param)


@pytest.fixture
def broker(tmp_path: Path, protocol: str) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path / "broker", protocol=protocol)
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
