"""`lockerd commission`: scan, set-address, walk, status. Runs while the daemon is stopped.

    lockerd commission scan --config FILE [--bus NAME] [--all] [--formats] [--allowance S]
    lockerd commission set-address --config FILE --bus NAME --from N --to M [--family F]
    lockerd commission walk --config FILE [--auto] [--compartment ID ...] [--timeout S]
    lockerd commission status --config FILE

`walk` saves its results (state document + audit row) in the daemon's
database; `set-address` is audited there too. Exit codes: 0 everything
walked passed (or the scan / change worked), 1 something failed, 2 a usage
or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from locker_host.bus import BoardSnapshot, BusConfig, BusOwner, DirectLine, PortError
from locker_host.domain import CompartmentSpec
from locker_host.store import Store, StoreRunner
from protocol.families import FAMILIES, REFERENCE, Capability, Framing
from protocol.modbus import MAX_UNIT
from protocol.timing import SerialFormat

from ..config import DaemonConfig, load_config, wiring_hash
from ..instance import AlreadyRunning, exclusive
from .record import EMPTY, load_record, record_board_change, save_walk, status_of
from .scan import (
    DEFAULT_ALLOWANCE,
    AddressRefused,
    Found,
    candidate_formats,
    find_formats,
    port_problem,
    scan,
    set_address,
)
from .walk import Walker, WalkSettings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageProblem(Exception):
    pass


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commission = sub.add_parser("commission", help="prove the wiring map (daemon stopped)")
    steps = commission.add_subparsers(dest="step", required=True, metavar="STEP")

    def step(name: str, text: str) -> argparse.ArgumentParser:
        p = steps.add_parser(name, help=text)
        p.add_argument("--config", required=True, help="the daemon's configuration file")
        return p

    scan_p = step("scan", "which units answer on a bus, and what they are")
    scan_p.add_argument("--bus", help="only this bus (default: every bus)")
    scan_p.add_argument(
        "--all", action="store_true", help=f"every unit 1..{MAX_UNIT}, not only the configured"
    )
    scan_p.add_argument(
        "--allowance", type=float, default=DEFAULT_ALLOWANCE, help="reply allowance, s"
    )
    scan_p.add_argument(
        "--formats",
        action="store_true",
        help="try every rate and frame a reference board can be set to: where do they answer?",
    )
    move = step("set-address", "give a board a new Modbus address")
    move.add_argument("--bus", required=True)
    move.add_argument("--from", dest="old", type=int, required=True, help="its address now")
    move.add_argument("--to", dest="new", type=int, required=True, help="its new address")
    movable = [f.name for f in FAMILIES.values() if Capability.ADDRESS_OVER_BUS in f.capabilities]
    move.add_argument("--family", choices=movable, default=REFERENCE.name)
    move.add_argument("--allowance", type=float, default=DEFAULT_ALLOWANCE, help=argparse.SUPPRESS)
    walk = step("walk", "pulse every door and check its sensors react")
    walk.add_argument(
        "--auto", action="store_true", help="no technician: doors open and close by themselves"
    )
    walk.add_argument("--compartment", action="append", default=[], help="only these (repeat)")
    walk.add_argument("--timeout", type=float, help="seconds per step (60; 10 with --auto)")
    walk.add_argument("--technician", default=None, help="who walks (audit); default: login")
    step("status", "what the last walks proved")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    match args.step:
        case "status":
            return _status(config)
        case "scan":  # the port's own lock keeps a running daemon out
            return _scan(config, args)
    try:
        # These write to the database: never next to a running daemon.
        with exclusive(config.paths.database, f"commission {args.step}"):
            if args.step == "set-address":
                return _set_address(config, args)
            return asyncio.run(_walk(config, args))
    except AlreadyRunning as exc:
        print(f"lockerd: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _buses(config: DaemonConfig, name: str | None) -> list[BusConfig]:
    if name is None:
        return list(config.buses)
    chosen = [b for b in config.buses if b.name == name]
    if not chosen:
        raise UsageProblem(f"--bus: no bus named {name!r} in {config.source}")
    return chosen


def _scan(config: DaemonConfig, args: argparse.Namespace) -> int:
    for bus in _buses(config, args.bus):
        units = range(1, MAX_UNIT + 1) if args.all else [b.unit for b in bus.boards]
        print(f"bus {bus.name} ({bus.port}, {bus.format.baud} {bus.format.name}):")
        if bus.line_protocol is Framing.KERONG:
            print("  Kerong boards: not Modbus, their address is their switch; `walk` reads them")
            continue
        try:
            if args.formats:
                _print_formats(bus, asyncio.run(_find_formats(bus, units, args.allowance)))
                continue
            found = asyncio.run(_scan_bus(bus, units, args.allowance))
        except PortError as exc:
            print(f"lockerd: {port_problem(exc)}", file=sys.stderr)
            return EXIT_FAILED
        configured = {b.unit: b.family for b in bus.boards}
        for f in found:
            note = ""
            if f.unit not in configured:
                note = "  (not in the configuration)"
            elif configured[f.unit] != f.family:
                note = f"  (configured as {configured[f.unit]})"
            print(f"  unit {f.unit:3d}: {f.family}: {f.identity}{note}")
        for unit in sorted(set(configured) - {f.unit for f in found}):
            print(f"  unit {unit:3d}: configured, does not answer")
        if not found:
            print("  nothing answers")
    return EXIT_OK


async def _find_formats(
    bus: BusConfig, units: Sequence[int], allowance: float
) -> list[tuple[SerialFormat, list[Found]]]:
    def open_line(fmt: SerialFormat) -> DirectLine:
        return DirectLine.open(bus.port, fmt, min_gap=bus.min_gap)

    formats = candidate_formats(bus.format)
    return await find_formats(open_line, formats, units, allowance=allowance)


def _print_formats(bus: BusConfig, answering: list[tuple[SerialFormat, list[Found]]]) -> None:
    for fmt, found in answering:
        units = ", ".join(str(f.unit) for f in found)
        mark = "  (the configured format)" if fmt == bus.format else ""
        print(f"  {fmt.baud} {fmt.name}: units {units} answer{mark}")
    if not answering:
        print("  nothing answers at any rate or frame")
    elif bus.format not in [fmt for fmt, _ in answering]:
        best = answering[0][0]
        print(f"  set baud = {best.baud} and format = \"{best.name}\" in the configuration")


async def _scan_bus(bus: BusConfig, units: Sequence[int], allowance: float) -> list[Found]:
    with DirectLine.open(bus.port, bus.format, min_gap=bus.min_gap) as line:
        return await scan(line, units, allowance=allowance)


async def _move(bus: BusConfig, args: argparse.Namespace) -> str:
    with DirectLine.open(bus.port, bus.format, min_gap=bus.min_gap) as line:
        return await set_address(line, args.old, args.new, args.family, allowance=args.allowance)


def _set_address(config: DaemonConfig, args: argparse.Namespace) -> int:
    (bus,) = _buses(config, args.bus)
    if bus.line_protocol is Framing.KERONG:
        print(f"lockerd: bus {bus.name}: a Kerong board's address is set on its switch")
        return EXIT_FAILED
    actor = f"technician:{_login()}"
    details = {"bus": bus.name, "from": args.old, "to": args.new, "family": args.family}
    try:
        message = asyncio.run(_move(bus, args))
    except (PortError, AddressRefused) as exc:
        problem = port_problem(exc) if isinstance(exc, PortError) else str(exc)
        print(f"lockerd: {problem}", file=sys.stderr)
        _audit(config, "commission.set_address", {**details, "error": problem}, actor, ok=False)
        return EXIT_FAILED
    _audit(config, "commission.set_address", details, actor, ok=True)
    print(message)
    if not any(b.unit == args.new for b in bus.boards):
        print(f"note: unit {args.new} is not in {config.source} yet; add it before walking")
    return EXIT_OK


def _audit(
    config: DaemonConfig, action: str, details: dict[str, object], actor: str, *, ok: bool
) -> None:
    now = datetime.now(UTC)
    store = Store.open(config.paths.database, now=now)
    try:
        record_board_change(store, action, details, actor=actor, ok=ok, now=now)
    finally:
        store.close()


def _status(config: DaemonConfig) -> int:
    now = datetime.now(UTC)
    store = Store.open(config.paths.database, now=now)
    try:
        record = load_record(store)
    finally:
        store.close()
    status = status_of(
        record, config.locker.layout, wiring_hash(config.locker.layout, config.buses)
    )
    print(f"wiring hash {status.wiring_hash[:16]}…")
    if record is not None and status.recorded_hash != status.wiring_hash:
        print("the map changed since the last walk: every compartment must be walked again")
    counts = (len(status.passed), len(status.failed), len(status.not_walked))
    print("passed {}, failed {}, not walked {}".format(*counts))
    for cid in status.failed:
        assert record is not None
        print(f"  {cid}: FAIL {record.results[cid].detail}")
    print("commissioned" if status.commissioned else "NOT commissioned: citizen flows are refused")
    return EXIT_OK if status.commissioned else EXIT_FAILED


async def _walk(config: DaemonConfig, args: argparse.Namespace) -> int:
    specs = _chosen(config, args.compartment)
    for bus in config.buses:  # fails fast while the daemon holds a port
        try:
            DirectLine.open(bus.port, bus.format).close()
        except PortError as exc:
            print(f"lockerd: {port_problem(exc)}", file=sys.stderr)
            return EXIT_FAILED
    timeout = args.timeout or (10.0 if args.auto else 60.0)
    settings = WalkSettings(args.auto, timeout, pulse_ms=config.locker.policy.pulse_ms)
    owners = {bus.name: BusOwner(bus, _ignore) for bus in config.buses}
    tasks = [asyncio.create_task(owner.run()) for owner in owners.values()]
    await asyncio.sleep(0)
    try:
        walker = Walker(owners, config.locker.layout, settings, say=_say, ask=_ask)
        results = await walker.walk(specs)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    current = wiring_hash(config.locker.layout, config.buses)
    now = datetime.now(UTC)
    async with await StoreRunner.open(config.paths.database, now=now) as runner:
        record = (await runner.run(load_record)) or EMPTY
        merged = record.merged(current, results)
        actor = f"technician:{args.technician or _login()}"
        await runner.run(lambda store: save_walk(store, merged, results, actor=actor, now=now))
    status = status_of(merged, config.locker.layout, current)
    failed = [r for r in results.values() if not r.passed]
    print(f"walked {len(results)}: {len(results) - len(failed)} passed, {len(failed)} failed")
    if status.commissioned:
        print("locker commissioned")
    else:
        missing = len(status.failed) + len(status.not_walked)
        print(f"NOT commissioned yet: {missing} compartment(s) failed or not walked")
    return EXIT_FAILED if failed else EXIT_OK


def _chosen(config: DaemonConfig, wanted: Sequence[str]) -> list[CompartmentSpec]:
    layout = config.locker.layout
    unknown = [c for c in wanted if c not in layout.by_id]
    if unknown:
        raise UsageProblem(f"--compartment: {unknown[0]} is not in the layout")
    return [s for s in layout if not wanted or s.id in wanted]


async def _ignore(snapshot: BoardSnapshot) -> None:
    """The walk reads boards itself (read_now); routine snapshots are not needed."""


def _say(text: str) -> None:
    print(text, flush=True)


def _ask(question: str) -> bool:
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
