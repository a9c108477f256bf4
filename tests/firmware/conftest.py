"""One real MicroPython for the whole session (node + the official WebAssembly
build, simulator/micropython/host.mjs), and the two interpreters the core is
run under: `cpython` (firmware.hal.sim_wire.call in this process) and
`micropython` (the same calls through the host's pipe)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.micropython import MicroPythonHost, MicroPythonUnavailable

from .engines import Engine, in_process, under_micropython


@pytest.fixture(scope="session")
def micropython() -> Iterator[MicroPythonHost]:
    try:
        host = MicroPythonHost()
    except MicroPythonUnavailable as exc:
        # ./run.sh installs node and the npm package: missing ones are a broken setup
        pytest.fail(str(exc), pytrace=False)
    with host:
        yield host


@pytest.fixture(params=["cpython", "micropython"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The core under each interpreter in turn; its boards are dropped afterwards."""
    if request.param == "cpython":
        made = in_process()
    else:
        made = under_micropython(request.getfixturevalue("micropython"))
    with made:
        yield made
