"""The people at the simulated locker: put an item in, or take one out, once a door opens.

The simulator's own user behaviour pulls each released door and pushes it shut
again; what happens in between is planned per compartment by the test
(`plan(cid, "put" | "take")`) and carried out by this thread, so that a flow
goes on while lockerd is being killed.
"""

from __future__ import annotations

import threading

from simulator.commands import dispatch
from tests.e2e.rig import SimRig


class People(threading.Thread):
    def __init__(self, rig: SimRig) -> None:
        super().__init__(daemon=True)
        self.rig = rig
        self._plans: dict[str, str] = {}
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self.done: list[tuple[str, str]] = []

    def plan(self, cid: str, action: str) -> None:
        with self._lock:
            self._plans[cid] = action

    def forget(self) -> None:
        with self._lock:
            self._plans.clear()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def run(self) -> None:
        while not self._halt.wait(0.01):
            with self._lock:
                plans = list(self._plans.items())
            for cid, action in plans:
                if not self.rig.door_is_open(cid):
                    continue
                reply = dispatch(self.rig.sim, {"cmd": action, "compartment": cid})
                with self._lock:
                    self._plans.pop(cid, None)
                if reply["ok"]:
                    self.done.append((cid, action))
