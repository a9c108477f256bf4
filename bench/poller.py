"""A process that does nothing but own one bus: what daemon_load.py measures.

    python -m bench.poller --port PATH --baud 115200 --boards 8 --interval 0.2
    python -m bench.poller --idle      # the same imports, no bus: the baseline
    python -m bench.poller --loop uvloop ...   # on uvloop, as lockerd runs by default

Prints `ready` once every board is online (or at once with --idle), then runs
until SIGTERM and prints `transactions N` on the way out. Exits 1 (with the
reason on stderr) if the bus owner stops or the boards are not all online
within 20 s; warnings are logged to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time

import uvloop

from locker_host.bus import BoardSnapshot, BusConfig, BusOwner, Health
from locker_host.bus import ReferenceBoardConfig as Board
from protocol.timing import SerialFormat

READY_TIMEOUT = 20.0


async def _serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if args.idle:
        print("ready", flush=True)
        await stop.wait()
        print("transactions 0", flush=True)
        return

    async def consume(snapshot: BoardSnapshot) -> None:
        return None

    config = BusConfig(
        "bus0",
        args.port,
        tuple(Board(unit, args.channels) for unit in range(1, args.boards + 1)),
        format=SerialFormat.parse(args.baud, args.format),
        poll_interval=args.interval,
    )
    owner = BusOwner(config, consume)
    task = asyncio.create_task(owner.run())
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while any(owner.snapshot(b).health is not Health.ONLINE for b in owner.boards):
            if task.done() or stop.is_set() or time.monotonic() > deadline:
                health = {str(b): owner.snapshot(b).health.value for b in owner.boards}
                failure = task.exception() if task.done() else None
                sys.exit(f"bench.poller: not all boards online: {health} {failure!r}")
            await asyncio.sleep(0.05)
        print("ready", flush=True)
        stop_wait = asyncio.create_task(stop.wait())
        await asyncio.wait({task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            sys.exit(f"bench.poller: the bus owner stopped: {task.exception()!r}")
        print(f"transactions {owner.statistics().transactions}", flush=True)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.poller")
    parser.add_argument("--port")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--format", default="8E1")
    parser.add_argument("--boards", type=int, default=8)
    parser.add_argument("--channels", type=int, default=24)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--idle", action="store_true")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="bench.poller: %(name)s: %(message)s")
    if not args.idle and not args.port:
        sys.exit("--port is required unless --idle")
    factory = None
    if args.loop == "uvloop":
        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve(args))


if __name__ == "__main__":
    main()
