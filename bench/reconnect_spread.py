"""How a fleet's links come back after their broker dies: the reconnect back-off's first
wave (mqtt_bridge/reconnect.py), measured on a loopback Mosquitto.

N real links (``mqtt_bridge.link.Link``: paho in its thread, our reconnect plan) with
their own client ids connect to one Mosquitto; it is killed (``kill -9``) and started
again on the same port at once; each link's next connection (its CONNACK and SUBACK) is
timed from the kill. Printed: when the first and the last came back, the median, and
the most in any 100 ms window beside the average the documented arithmetic gives
(``2 N / reconnect_min_s`` per second over ``reconnect_min_s / 2`` seconds,
docs/configuration.md, "[mqtt]").

    python -m bench.reconnect_spread [--links 200] [--min-s 1]

Not part of ``./run.sh bench``'s tables: a check of the documented arithmetic.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from paho.mqtt.subscribeoptions import SubscribeOptions

from mqtt_bridge import BridgeConfig
from mqtt_bridge.link import Connected, Link, LinkEvent
from tests.mqtt.broker import Mosquitto

WAIT_S = 60.0


def measure(links: int, min_s: int, directory: Path) -> list[float]:
    broker = Mosquitto(directory, lines=["allow_anonymous true", "max_connections -1"])
    broker.start()
    lock = threading.Lock()
    connects: dict[int, list[float]] = {}

    def deliver_for(i: int):  # type: ignore[no-untyped-def]
        def deliver(event: LinkEvent) -> None:  # on paho's thread
            if isinstance(event, Connected):
                with lock:
                    connects.setdefault(i, []).append(time.monotonic())

        return deliver

    started = []
    try:
        for i in range(links):
            config = BridgeConfig(
                site="bench", locker=f"L{i}", host="127.0.0.1", port=broker.port,
                reconnect_min_s=min_s, keepalive_s=30,
            )  # fmt: skip
            link = Link(
                config,
                will=(f"bench/{i}/will", b"{}"),
                subscriptions=[(f"bench/{i}/in", SubscribeOptions(qos=1))],
                deliver=deliver_for(i),
            )
            link.start()
            started.append(link)
        _until(lambda: len(connects) == links)
        killed = time.monotonic()
        broker.kill()
        broker.start()
        _until(lambda: all(len(times) >= 2 for times in connects.values()))
        return sorted(times[1] - killed for times in connects.values())
    finally:
        for link in started:
            link.stop()
        broker.kill()


def _until(condition) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the links did not all connect")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=200)
    parser.add_argument("--min-s", type=int, default=1, help="reconnect_min_s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reconnect-spread-") as scratch:
        back = measure(args.links, args.min_s, Path(scratch))
    windows = Counter(int(t * 10) for t in back)
    average = args.links / (args.min_s / 2) / 10
    print(
        f"{args.links} links, reconnect_min_s {args.min_s}: back from {back[0]:.2f} s to "
        f"{back[-1]:.2f} s after the kill (median {back[len(back) // 2]:.2f} s); at most "
        f"{max(windows.values())} in one 100 ms window, {average:.0f} on average"
    )


if __name__ == "__main__":
    main()
