"""The bus tests run against the same in-process simulators as the simulator's own tests,
or against a bare raw pseudo-terminal (`pty`: the master's fd and the slave's path)."""

from __future__ import annotations

import os
import tty
from collections.abc import Iterator

import pytest

from tests.simulator.conftest import SimFactory, make_sim

__all__ = ["SimFactory", "make_sim", "pty"]


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(slave)
    os.close(master)
