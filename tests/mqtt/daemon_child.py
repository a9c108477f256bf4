"""The locker daemon as a real process, for ``kill -9``: run by test_resilience.py.

``python -m tests.mqtt.daemon_child DB PORT`` opens the locker on DB, runs the
bridge against the broker on PORT and produces events without end (B01 out of
service and back), printing ``produced N`` after each commit, until killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.app.harness import Locker

from .harness import bridge_config, bridge_for, running


async def main(db: Path, port: int, protocol: str) -> None:
    locker = await Locker.start(db)
    bridge = bridge_for(locker, bridge_config(port, protocol))
    async with running(bridge):
        print("connected", flush=True)
        produced = 0
        while True:
            await locker.ok(
                "set_service", compartment="B01", in_service=produced % 2 == 1, reason="x"
            )
            produced += 1
            print(f"produced {produced}", flush=True)
            await asyncio.sleep(0.002)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
