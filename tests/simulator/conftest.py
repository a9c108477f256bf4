from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simulator.engines import Engine, MicroPythonEngine
from simulator.layout import Layout, simple_layout
from simulator.runtime import Simulator

SimFactory = Callable[..., Simulator]


@pytest.fixture
def make_sim(tmp_path: Path) -> Iterator[SimFactory]:
    """Start in-process simulators on real ptys; all are stopped at the end."""
    started: list[Simulator] = []

    def make(layout: Layout | None = None) -> Simulator:
        sim = Simulator(layout or simple_layout(), tmp_path / f"run{len(started)}")
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
    for sim in started:
        assert sim.failure() is None


@pytest.fixture(scope="session")
def micropython_engine() -> Iterator[Engine]:
    """One real MicroPython (node + the WebAssembly build) for the session's boards."""
    engine = MicroPythonEngine()
    yield engine
    engine.close()
