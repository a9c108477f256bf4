"""`locker-sim`: serve a simulated locker, and poke the one that is running.

    locker-sim                      serve the default locker (2 reference boards)
    locker-sim serve [options]      serve a layout (a TOML file or flags)
    locker-sim status               a table of every compartment
    locker-sim open A03             ... and the other commands (see --help)

`serve` prints `serial: <device path>` and `control: <address>` as its
first two lines; after the `bus ...` lines, `reader: <device path>` (the
simulated ID-card reader) unless the layout has none. Exit codes: 0 ok, 1
the simulator refused or cannot be reached, 2 a usage or layout error (one
line naming the problem).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.live import Live
from rich.text import Text

from protocol.families import FAMILIES, REFERENCE

from .client import CONTROL_FILE, ControlUnavailable, call, default_run_dir, find_control
from .engines import ENGINES
from .layout import DEFAULT_COLUMN, Layout, LayoutError, ReaderSpec, load_layout, simple_layout
from .micropython import MicroPythonError, MicroPythonUnavailable
from .physics import UserBehaviour
from .reader_cli import add_reader_commands, reader_request
from .render import print_stats, print_status, status_view
from .runtime import Simulator

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class UsageProblem(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "serve")
    args = _parser().parse_args(args_list)
    try:
        if args.command == "serve":
            return _serve(args)
        return _client(args)
    except (UsageProblem, LayoutError) as exc:
        print(f"locker-sim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ControlUnavailable as exc:
        print(f"locker-sim: {exc}", file=sys.stderr)
        return EXIT_REFUSED


# -- serve ------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    layout = _layout(args)
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir()
    _refuse_if_running(run_dir)
    links = {layout.buses[0].name: Path(args.link)} if args.link else {}
    for flag, port in (("--tcp-port", args.tcp_port), ("--control-port", args.control_port)):
        if port is not None and not 0 <= port <= 65535:
            raise UsageProblem(f"{flag}: {port} is outside 0..65535")
    if args.tcp_port is not None:
        first = replace(layout.buses[0], tcp_port=args.tcp_port)
        layout = replace(layout, buses=(first, *layout.buses[1:]))
    if args.reader_link and layout.reader is not None:
        layout = replace(layout, reader=ReaderSpec(Path(args.reader_link)))
    try:
        run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        sim = Simulator(layout, run_dir, links=links, control_port=args.control_port)
    except (OSError, MicroPythonUnavailable, MicroPythonError) as exc:
        raise UsageProblem(f"cannot serve: {exc}") from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    state = run_dir / CONTROL_FILE
    try:
        try:
            sim.start()
        except OSError as exc:
            raise UsageProblem(f"cannot serve: {exc}") from None
        first_front = next(iter(sim.fronts.values()))
        # the file first: whoever reads "control:" may run a subcommand at once
        state.write_text(sim.control.address + "\n", encoding="utf-8")
        print(f"serial: {first_front.pty.link}", flush=True)
        print(f"control: {sim.control.address}", flush=True)
        engine = sim.world.engine
        print(f"engine: {engine.name} {engine.version}", flush=True)
        for name, front in sim.fronts.items():
            info = front.info()
            print(
                f"bus {name}: serial {info['serial']} ({info['device']}), tcp {info['tcp']}, "
                f"{info['baud']} {info['format']}",
                flush=True,
            )
        if sim.card_reader is not None:
            print(f"reader: {sim.card_reader.pty.link}", flush=True)
        if sim.staff_reader is not None:
            staff = sim.staff_reader
            print(f"staff reader: {staff.pty.link} ({staff.kind.value})", flush=True)
        print("serving; Ctrl-C stops", flush=True)
        while not stop.wait(0.5):
            if (failure := sim.failure()) is not None:
                print(f"locker-sim: a line stopped: {failure!r}", file=sys.stderr)
                return EXIT_REFUSED
        return EXIT_OK
    finally:
        sim.stop()
        with contextlib.suppress(OSError):
            if state.read_text(encoding="utf-8").strip() == sim.control.address:
                state.unlink()


def _layout(args: argparse.Namespace) -> Layout:
    flags = [
        f"--{name.replace('_', '-')}"
        for name in (
            "buses",
            "boards",
            "channels",
            "baud",
            "format",
            "family",
            "turnaround_ms",
            "sizes",
        )
        if getattr(args, name) is not None
    ]
    if args.layout:
        if flags:
            raise UsageProblem(f"--layout and {', '.join(flags)} do not mix: put them in the file")
        layout = load_layout(Path(args.layout))
    else:
        layout = simple_layout(
            buses=1 if args.buses is None else args.buses,
            boards=2 if args.boards is None else args.boards,
            channels=args.channels,
            baud=args.baud,
            frame=args.format.upper() if args.format else None,
            family=args.family or REFERENCE.name,
            turnaround=(1.0 if args.turnaround_ms is None else args.turnaround_ms) / 1000,
            column_sizes=args.sizes or DEFAULT_COLUMN,
        )
    if args.auto_open is not None or args.auto_close is not None:
        try:
            user = UserBehaviour(
                args.auto_open if args.auto_open is not None else layout.user.auto_open_after,
                args.auto_close if args.auto_close is not None else layout.user.auto_close_after,
            )
        except ValueError as exc:
            flag = "--auto-open" if "open" in str(exc) else "--auto-close"
            raise UsageProblem(f"{flag}: {exc}") from None
        layout = replace(layout, user=user)
    if getattr(args, "engine", None) is not None:
        layout = replace(layout, engine=args.engine)
    return layout


def _refuse_if_running(run_dir: Path) -> None:
    try:
        address = (run_dir / CONTROL_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return
    try:
        reply = call(address, {"cmd": "ping"}, timeout=0.5)
    except (ControlUnavailable, ValueError):
        return  # a stale file from a simulator that died
    if reply.get("ok"):
        raise UsageProblem(
            f"a simulator is already serving from {run_dir} (control {address}); "
            "stop it or pass --run-dir"
        )


# -- the other subcommands -------------------------------------------------------------


def _client(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir()
    address = find_control(args.control, run_dir)
    request = _request(args)
    if args.command == "status" and args.watch is not None:
        return _watch_status(address, args.watch)
    reply = call(address, request, timeout=args.timeout)
    # a pipe gets 80 columns from rich; a status table needs more
    width = args.width or (None if sys.stdout.isatty() else 132)
    console = Console(width=width)
    if not reply.get("ok"):
        error = reply.get("error")
        code, message = "error", str(error)
        if isinstance(error, dict):
            code, message = str(error.get("code")), str(error.get("message"))
        print(f"locker-sim: {code}: {message}", file=sys.stderr)
        return EXIT_REFUSED
    if args.json:
        print(json.dumps(reply, indent=2))
    elif args.command == "status":
        print_status(reply, console)
    elif args.command == "stats":
        print_stats(reply, console)
    elif args.command == "run":
        return _print_run(reply)
    else:
        print(json.dumps({k: v for k, v in reply.items() if k != "ok"}))
    return EXIT_OK


def _watch_status(address: str, interval: float) -> int:
    """Redraw the status table in place until Ctrl-C (the demo's screen)."""
    if not 0.1 <= interval <= 60:
        raise UsageProblem(f"--watch: {interval} is outside 0.1..60 seconds")
    console = Console()
    if not console.is_terminal:
        # A pipe or a log: one frame after another, flushed, instead of redrawing.
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                console.print(status_view(call(address, {"cmd": "status"}, timeout=5)))
                sys.stdout.flush()
                time.sleep(interval)
        return EXIT_OK
    with contextlib.suppress(KeyboardInterrupt), Live(console=console, auto_refresh=False) as live:
        while True:
            try:
                reply = call(address, {"cmd": "status"}, timeout=5)
            except ControlUnavailable as exc:
                live.update(Text(f"simulator unreachable: {exc}"), refresh=True)
                return EXIT_REFUSED
            live.update(status_view(reply), refresh=True)
            time.sleep(interval)
    return EXIT_OK


def _print_run(reply: dict[str, object]) -> int:
    results = reply.get("results")
    assert isinstance(results, list)
    for r in results:
        mark = "ok" if r.get("ok") else f"FAILED {r['error']['code']}: {r['error']['message']}"
        print(f"{r['at']:8.3f}  {r['cmd']:<12} {mark}")
    print(f"{reply['scenario']}: {reply['steps']} steps, {reply['failed']} failed")
    return EXIT_OK if reply["failed"] == 0 else EXIT_REFUSED


def _request(args: argparse.Namespace) -> dict[str, object]:
    cmd = args.command.replace("-", "_")
    request: dict[str, object] = {"cmd": cmd}
    for name in ("compartment", "unit", "bus", "count", "sensor", "mode", "reads", "since"):
        value = getattr(args, name, None)
        if value is not None:
            request[name] = value
    if cmd == "stats":
        request["limit"] = args.limit
    if cmd == "user":
        for flag, key in (("auto_open", "auto_open_after"), ("auto_close", "auto_close_after")):
            value = getattr(args, flag)
            if value is not None:
                request[key] = None if value == "off" else _seconds(value, flag)
    if cmd == "fault":
        for key in ("no_reply", "late", "late_delay", "bad_crc", "wrong_unit", "noise", "seed"):
            value = getattr(args, key)
            if value is not None:
                request[key] = value
    request.update(reader_request(cmd, args))
    if cmd == "run":
        try:
            request["scenario"] = Path(args.scenario).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageProblem(f"cannot read the scenario: {exc}") from None
    return request


def _seconds(value: str, flag: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise UsageProblem(
            f"--{flag.replace('_', '-')}: {value!r} is not seconds or 'off'"
        ) from None


# -- argument parsing ---------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="locker-sim", description="Simulated RS-485 lock boards for the document locker."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="serve a simulated locker (the default)")
    serve.add_argument("--layout", help="a TOML layout (see examples/sim-layout.toml)")
    serve.add_argument("--buses", type=int, help="identical buses, one device each (default 1)")
    serve.add_argument("--boards", type=int, help="boards per bus, units 1..N (default 2)")
    serve.add_argument(
        "--channels", type=int, help="channels per board (default: the family's; reference 24)"
    )
    serve.add_argument(
        "--family",
        choices=tuple(FAMILIES),
        help="board family (Kerong boards: 8N1 unless --format says otherwise)",
    )
    serve.add_argument("--baud", type=int, help="bits per second (default 19200)")
    serve.add_argument("--format", help="8E1 (default; Kerong: 8N1), 8N1, 8N2 or 8O1")
    serve.add_argument(
        "--sizes", help=f"compartment sizes down a column (default {DEFAULT_COLUMN})"
    )
    serve.add_argument("--turnaround-ms", type=float, help="board reply delay after t3.5 (1)")
    serve.add_argument("--auto-open", type=float, help="a person pulls the door N s after release")
    serve.add_argument("--auto-close", type=float, help="... and closes it N s after opening")
    serve.add_argument("--link", help="device path of the first bus (a symlink)")
    serve.add_argument("--tcp-port", type=int, help="RTU-over-TCP port of the first bus (0)")
    serve.add_argument("--reader-link", help="device path of the ID-card reader (a symlink)")
    serve.add_argument("--control-port", type=int, default=0, help="control port (ephemeral)")
    serve.add_argument("--run-dir", help="where links and the control file live")
    serve.add_argument(
        "--engine",
        choices=ENGINES,
        help="where the reference boards' firmware runs: cpython (default) or micropython "
        "(real MicroPython under node; overrides the layout's engine key)",
    )

    def client(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--control", help="HOST:PORT of the simulator (else LOCKER_SIM_CONTROL)")
        p.add_argument("--run-dir", help="find the simulator's control file here")
        p.add_argument("--json", action="store_true", help="print the raw JSON answer")
        p.add_argument("--timeout", type=float, default=600.0, help=argparse.SUPPRESS)
        p.add_argument("--width", type=int, help="table width in characters")
        return p

    status = client("status", "a table of every compartment")
    status.add_argument(
        "--watch", type=float, metavar="SECONDS", help="redraw every SECONDS until Ctrl-C"
    )
    client("ping", "is the simulator there?")
    stats = client("stats", "line counters and transaction timing records")
    stats.add_argument("--bus")
    stats.add_argument("--since", type=int, help="records after this sequence number")
    stats.add_argument("--limit", type=int, default=200)
    for name, text in (
        ("open", "a person pulls the door (only when released)"),
        ("close", "a person closes the door"),
        ("force", "force the door open"),
        ("jam", "jam the lock"),
        ("unjam", "free the lock"),
    ):
        client(name, text).add_argument("compartment")
    for name in ("put", "take"):
        p = client(name, f"{name} items (door open)")
        p.add_argument("compartment")
        p.add_argument("--count", type=int)
    sensor = client("sensor", "door/item sensor: normal, inverted, or stuck at a reading")
    sensor.add_argument("compartment")
    sensor.add_argument("sensor", choices=("door", "item"))
    sensor.add_argument("mode", choices=("normal", "inverted", "stuck"))
    sensor.add_argument("reads", nargs="?", choices=("open", "closed", "present", "absent"))
    user = client("user", "the simulated person (all compartments unless one is named)")
    user.add_argument("compartment", nargs="?")
    user.add_argument("--auto-open", help="seconds after a release, or off")
    user.add_argument("--auto-close", help="seconds after opening, or off")
    for name, text in (
        ("offline", "a board drops off the bus"),
        ("online", "a board is back"),
        ("power-cycle", "a board restarts"),
    ):
        p = client(name, text)
        p.add_argument("unit", type=int)
        p.add_argument("--bus")
    fault = client("fault", "inject faults into a board's replies (rates 0..1)")
    fault.add_argument("unit", type=int)
    fault.add_argument("--bus")
    for key in ("no_reply", "late", "bad_crc", "wrong_unit", "noise"):
        fault.add_argument(f"--{key.replace('_', '-')}", dest=key, type=float)
    fault.add_argument("--late-delay", dest="late_delay", type=float, help="seconds (0.2)")
    fault.add_argument("--seed", type=int)
    clear = client("clear-faults", "stop injecting faults (one board or all)")
    clear.add_argument("unit", type=int, nargs="?")
    clear.add_argument("--bus")
    for name, text in (("unplug", "pull the USB adapter"), ("replug", "plug it back")):
        client(name, text).add_argument("--bus")
    run = client("run", "run a scenario file (TOML), wait until it is over")
    run.add_argument("scenario")
    add_reader_commands(client)
    return parser
