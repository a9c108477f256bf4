"""The conformance checks (conformance.py) against the simulator's reference
board on both engines, and against a real board when one is attached.

The simulator runs as `locker-sim serve` in its own process, one 8-channel
board at unit 1 on a pseudo-terminal, once per engine for the whole module:
the checks leave the board as they found it. A real board is reached through
a USB RS-485 adapter at LOCKER_HIL_PORT (unit LOCKER_HIL_UNIT, default 1;
LOCKER_HIL_CHANNELS, default 24), at the factory format 19200 8E1; it is not
taken as freshly powered, so its power-up reset flag is not asserted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from simulator.engines import ENGINES
from tests.simulator.test_cli import Served

from .conformance import CHECKS, Check, Master, connect

SIM_CHANNELS = 8


@pytest.fixture(scope="module", params=ENGINES)
def simulated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Master]:
    engine = request.param
    run_dir = tmp_path_factory.mktemp(f"sim-{engine}") / "run"
    served = Served(
        ["serve", "--boards", "1", "--channels", str(SIM_CHANNELS), "--engine", engine], run_dir
    )
    try:
        match = re.fullmatch(r"serial: (\S+)", served.line())
        assert match, "locker-sim serve did not print its serial device first"
        master = connect(match.group(1), 1, SIM_CHANNELS, fresh=True)
        yield master
        master.port.close()
    finally:
        assert served.stop() == 0, served.stderr


@pytest.fixture(scope="module")
def hardware() -> Iterator[Master]:
    path = os.environ.get("LOCKER_HIL_PORT")
    if not path:
        pytest.skip("no board attached: set LOCKER_HIL_PORT to its RS-485 adapter")
    unit = int(os.environ.get("LOCKER_HIL_UNIT", "1"))
    channels = int(os.environ.get("LOCKER_HIL_CHANNELS", "24"))
    master = connect(path, unit, channels, fresh=False)
    yield master
    master.port.close()


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_the_simulated_board_conforms(simulated: Master, check: Check) -> None:
    check(simulated)


@pytest.mark.hardware
@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_a_real_board_conforms(hardware: Master, check: Check) -> None:
    check(hardware)
