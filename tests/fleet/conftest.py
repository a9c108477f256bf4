"""The fleet world (issue 15): a RabbitMQ cluster, PostgreSQL, the reference central
system and fleet runners, each a real process. Runs only with a profile (profile.py):

    ./run.sh fleet            # the CI profile (50 lockers)
    ./run.sh fleet --long     # the long profile (1,000 lockers)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .postgres import Postgres
from .profile import ENV, Profile, current
from .rabbit import RabbitCluster


@pytest.fixture
def profile() -> Profile:
    chosen = current()
    if chosen is None:
        pytest.skip(f"the fleet tests run with {ENV}=ci or long (./run.sh fleet)")
    return chosen


@pytest.fixture
def cluster(tmp_path: Path, profile: Profile) -> Iterator[RabbitCluster]:
    rabbit = RabbitCluster(tmp_path / "rabbit")
    try:
        rabbit.start_all()
        rabbit.wait_clustered()
        yield rabbit
    finally:
        rabbit.stop_all()


@pytest.fixture
def postgres(profile: Profile) -> Iterator[Postgres]:
    database = Postgres()
    try:
        database.start()
        yield database
    finally:
        database.remove()
