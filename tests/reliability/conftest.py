"""The reliability suite (issue 7): faults, crashes, broker and network, power and clock,
end-to-end security. Heavy, so it runs only when a profile is chosen (profile.py):

    ./run.sh reliability            # the CI profile (also run by .ci/run)
    ./run.sh reliability --long     # the long profile
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.app.conftest import db_path
from tests.e2e.conftest import commissioned_dbs
from tests.mqtt.conftest import broker, contract

from .profile import ENV, Profile, current

__all__ = ["broker", "commissioned_dbs", "contract", "db_path", "profile", "protocol"]


@pytest.fixture
def protocol() -> str:
    """The MQTT version of ``broker``'s clients: 5 here (tests/mqtt runs 3.1.1 too)."""
    return "5"


@pytest.fixture
def profile() -> Profile:
    chosen = current()
    if chosen is None:
        pytest.skip(f"the reliability suite runs with {ENV}=ci or long (./run.sh reliability)")
    return chosen


@pytest.fixture(scope="session")
def commissioned_db(commissioned_dbs: Callable[[str], Path]) -> Path:
    """The simulator site's commissioned database (the e2e suite's, walked once)."""
    return commissioned_dbs("sim")
