"""A commands.Context without threads, ports or a clock: time is a number."""

from __future__ import annotations

import contextlib
from typing import Any

from simulator.commands import dispatch
from simulator.layout import Layout
from simulator.scenario import parse_scenario, run_scenario
from simulator.world import World


class FakeContext:
    def __init__(self, layout: Layout) -> None:
        self.t = 0.0
        self.world = World(layout, 0.0)
        self.lock: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        self.plugged = {name: True for name in self.world.lines}
        self.pokes = 0

    def now(self) -> float:
        return self.t

    def poke(self) -> None:
        self.pokes += 1

    def bus_info(self, bus: str) -> dict[str, object]:
        fmt = self.world.lines[bus].format
        return {
            "serial": f"/fake/{bus}",
            "device": "/dev/pts/99" if self.plugged[bus] else None,
            "plugged": self.plugged[bus],
            "tcp": "127.0.0.1:1",
            "baud": fmt.baud,
            "format": fmt.name,
        }

    def unplug(self, bus: str) -> None:
        self.plugged[bus] = False

    def replug(self, bus: str) -> None:
        self.plugged[bus] = True

    def run_steps(self, text: str) -> dict[str, object]:
        name, steps = parse_scenario(text, self.world)

        def sleep(seconds: float) -> None:
            self.t += seconds

        return run_scenario(name, steps, lambda r: dispatch(self, r), lambda: self.t, sleep)

    def __call__(self, request: object) -> dict[str, Any]:
        return dispatch(self, request)
