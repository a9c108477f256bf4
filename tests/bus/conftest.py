"""The bus tests run against the same in-process simulators as the simulator's own tests."""

from tests.simulator.conftest import SimFactory, make_sim

__all__ = ["SimFactory", "make_sim"]
