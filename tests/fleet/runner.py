"""The fleet runner: many lockers in one process, each the real ``LockerService`` on its own
SQLite file and the real MQTT link (``MqttLink`` -> ``MqttBridge``), as ``lockerd run``
composes them.

What is fake, and why: each locker's lock boards are the app tests' ``FakeLocker``
(doors and items the runner never moves) and its clock the app tests' ``FakeClock``.
A thousand simulated RS-485 lines on pseudo-terminals cannot exist on a two-core
machine; the boards are not what the fleet tests prove (the link, the broker cluster
and the central system are, and those are all real).

Load: while it is on, each locker toggles one compartment out of service and back
(``set_service`` through its own command API, as a technician on site would) every
``--event-interval`` seconds on average, so each makes one outbox event per toggle
whether or not it is connected.

Control, from the parent process: ``SIGUSR1`` stops the load; ``SIGTERM`` stops the
lockers (each link says ``offline`` and disconnects) and ends the process; ``SIGUSR2``
writes the event loop's stack to the runner's log (``faulthandler``: it works even when
the event loop is stuck), which the tests ask for when a wait times out. Every
second the runner writes ``--status`` (JSON): per locker whether its link is
connected, its outbox's head and acked seq and pending count, its connects, failed
attempts, disconnects, last error, takeover signs and alarms so far, and the
process's CPU seconds, RSS and thread count.

    python -m tests.fleet.runner --dir DIR --site fleet --first 0 --count 50 \\
        --brokers 127.0.0.1:1883,127.0.0.1:1884 --status DIR/status.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import json
import logging
import os
import random
import resource
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locker_host.daemon.mqtt_link import MqttLink, ServicePort
from mqtt_bridge import BridgeConfig
from mqtt_bridge.reconnect import Broker
from tests.app.harness import Locker
from tests.domain.helpers import config as locker_config

log = logging.getLogger("fleet.runner")

# Defaults of --status-every-s and --poll-s (the environment: for cost experiments).
STATUS_EVERY_S = float(os.environ.get("FLEET_STATUS_EVERY_S", "1.0"))
POLL_S = float(os.environ.get("FLEET_POLL_S", "1.0"))


# Every locker's link in the fleet world, the runners' and the full lockerds' alike
# (lockerd's [mqtt] keys of the same names): a dead node is noticed within a keepalive and
# a half, and the reconnect back-off is capped at 8 s (docs/fleet.md, "Reconnect storms").
LINK_SETTINGS: dict[str, Any] = {
    "keepalive_s": 10,
    "reconnect_min_s": 1,
    "reconnect_max_s": 8,
    # A lost event (a broker node died holding it) is sent again this soon when acks
    # stop moving; the central system drops the duplicates.
    "resend_unacked_after_s": 15.0,
}


def locker_id(index: int) -> str:
    return f"L{index:04d}"


def parse_brokers(text: str) -> list[tuple[str, int]]:
    found = []
    for item in text.split(","):
        host, _, port = item.strip().rpartition(":")
        found.append((host or "127.0.0.1", int(port)))
    return found


def bridge_settings(
    site: str,
    locker: str,
    brokers: list[tuple[str, int]],
    index: int,
    protocol: str,
    poll_s: float = POLL_S,
) -> dict[str, Any]:
    """Locker ``index`` starts on broker ``index % len(brokers)`` and fails over to the rest
    in turn: the fleet is spread evenly over the nodes."""
    start = index % len(brokers)
    ordered = brokers[start:] + brokers[:start]
    settings: dict[str, Any] = {
        "site": site,
        "locker": locker,
        "host": ordered[0][0],
        "port": ordered[0][1],
        **LINK_SETTINGS,
        "poll_interval_s": poll_s,
        "software": "fleet-runner",
    }
    settings["protocol"] = protocol
    if len(ordered) > 1:
        settings["failover"] = tuple(Broker(host, port) for host, port in ordered[1:])
    return settings


@dataclass
class FleetLocker:
    index: int
    locker: Locker
    port: ServicePort
    link: MqttLink
    task: asyncio.Task[None] | None = None
    toggles: int = 0

    @property
    def name(self) -> str:
        return locker_id(self.index)

    async def toggle(self) -> None:
        """One outbox event: A01 out of service, or back in."""
        self.toggles += 1
        await self.locker.ok(
            "set_service",
            compartment="A01",
            in_service=self.toggles % 2 == 0,
            reason="fleet load",
        )

    async def status(self) -> dict[str, Any]:
        stats = await self.port.outbox_stats()
        figures = self.link.statistics()
        return {
            "connected": bool(figures.get("connected")),
            "connects": int(figures.get("connects", 0)),
            "broker": figures.get("broker"),  # host:port of the last connection
            "head_seq": stats.head_seq,
            "acked_seq": stats.acked_seq,
            "pending": stats.pending,
            "toggles": self.toggles,
            "connect_failures": int(figures.get("connect_failures", 0)),
            "disconnects": int(figures.get("disconnects", 0)),
            "last_error": figures.get("last_error"),
            "takeovers": int(figures.get("takeovers", 0)),
            "alarms": list(figures.get("alarms", ())),
        }


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.lockers: list[FleetLocker] = []
        self.loading = True
        self.toggling = 0  # toggles begun and not yet committed
        self.stopping = asyncio.Event()

    async def start(self) -> None:
        brokers = parse_brokers(self.args.brokers)
        directory: Path = self.args.dir
        directory.mkdir(parents=True, exist_ok=True)
        for index in range(self.args.first, self.args.first + self.args.count):
            name = locker_id(index)
            config = locker_config()
            config = type(config)(self.args.site, name, config.layout, config.policy)
            locker = await Locker.start(directory / f"{name}.db", locker_config=config)
            port = ServicePort(locker.api, locker.service)
            bridge_config = BridgeConfig(
                **bridge_settings(
                    self.args.site, name, brokers, index, self.args.protocol, self.args.poll_s
                )
            )
            link = MqttLink(bridge_config, port, locker.service, wall=locker.clock.wall)
            fleet_locker = FleetLocker(index, locker, port, link)
            fleet_locker.task = asyncio.create_task(link.run())
            self.lockers.append(fleet_locker)

    async def load(self) -> None:
        interval = self.args.event_interval
        if interval <= 0:
            return

        async def one(fleet_locker: FleetLocker) -> None:
            await asyncio.sleep(random.uniform(0, interval))
            while self.loading and not self.stopping.is_set():
                self.toggling += 1
                try:
                    await fleet_locker.toggle()
                finally:
                    self.toggling -= 1
                await asyncio.sleep(random.uniform(0.5 * interval, 1.5 * interval))

        await asyncio.gather(*(one(fleet_locker) for fleet_locker in self.lockers))

    async def report(self) -> None:
        path: Path = self.args.status
        while True:
            # Quiet (load stopped, no toggle in flight) before the heads are read: then no
            # event can follow the heads this report gives.
            quiet = not self.loading and self.toggling == 0
            lockers = {fl.name: await fl.status() for fl in self.lockers}
            usage = resource.getrusage(resource.RUSAGE_SELF)
            status = {
                "at": time.time(),
                "loading": self.loading,
                "quiet": quiet,
                "lockers": lockers,
                "connected": sum(1 for s in lockers.values() if s["connected"]),
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "rss_kib": _rss_kib(),
                "threads": threading.active_count(),
            }
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(status))
            temporary.replace(path)
            if self.stopping.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.args.status_every_s)

    async def stop(self) -> None:
        await asyncio.gather(*(fl.link.stop(fl.task) for fl in self.lockers if fl.task is not None))
        for fl in self.lockers:
            await fl.locker.close()


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def main_async(args: argparse.Namespace) -> None:
    runner = Runner(args)
    loop = asyncio.get_running_loop()

    def stop_load() -> None:
        runner.loading = False

    loop.add_signal_handler(signal.SIGUSR1, stop_load)
    loop.add_signal_handler(signal.SIGTERM, runner.stopping.set)
    await runner.start()
    reporter = asyncio.create_task(runner.report())
    loader = asyncio.create_task(runner.load())
    await runner.stopping.wait()
    loader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loader
    await reporter
    await runner.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fleet.runner")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--site", default="fleet")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--protocol", default="3.1.1")
    parser.add_argument("--event-interval", type=float, default=2.0)
    parser.add_argument("--status", type=Path, required=True)
    parser.add_argument("--poll-s", type=float, default=POLL_S)  # the links' poll_interval_s
    parser.add_argument("--status-every-s", type=float, default=STATUS_EVERY_S)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    # The main thread's stack only (Linux hands a process-directed signal to the main
    # thread first): with all threads, its stack would be cut off after 100 paho threads.
    faulthandler.register(signal.SIGUSR2, all_threads=False)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
