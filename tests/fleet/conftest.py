"""The fleet world (issue 15): a RabbitMQ cluster, PostgreSQL, the reference central
system and fleet runners, each a real process. Runs only with a profile (profile.py):

    ./run.sh fleet            # the CI profile (50 lockers)
    ./run.sh fleet --long     # the long profile (1,000 lockers)
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator, Iterator
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
def world_dir(request: pytest.FixtureRequest, profile: Profile) -> Iterator[Path]:
    """Our own directory, not pytest's ``tmp_path``: other pytest runs on the machine prune
    old ``pytest-of-<user>`` directories, which would take a running broker's data away.
    Removed after a pass, kept (and named) after a failure."""
    directory = Path(tempfile.mkdtemp(prefix="fleet-world-"))
    yield directory
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed:
        shutil.rmtree(directory, ignore_errors=True)
    else:
        print(f"the fleet world is kept in {directory}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def cluster(world_dir: Path, profile: Profile) -> Iterator[RabbitCluster]:
    rabbit = RabbitCluster(world_dir / "rabbit")
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
