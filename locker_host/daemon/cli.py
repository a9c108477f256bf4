"""`lockerd`: the locker daemon and its tools.

    lockerd run --config FILE            run the daemon (SIGTERM / SIGINT stop it cleanly)
    lockerd admin COMMAND ...            one command to the running daemon (cli_admin.py)
    lockerd commission STEP ...          scan, set-address, walk, status (commission/cli.py)
    lockerd check-config FILE            validate a configuration (and its secrets file)
    lockerd hash-card --config FILE      a staff card's digest for [[staff]] (number on stdin)
    lockerd backup --config FILE DEST    an online copy of the database (daemon running or not)
    lockerd demo [--port N] [--keep]     the whole locker on this machine (the demo package)
    lockerd hash-token --name N --role R an HTTP token's digest for [[http.tokens]] (token on
                                         stdin, or --generate a new one)

Exit codes: 0 ok, 1 refused / failed / cannot reach the daemon, 2 a usage or
configuration error (one line naming the key and the problem).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import secrets
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import uvloop

from locker_host.api import Role, token_digest
from locker_host.app import AppError, SecretsError, load_keys
from locker_host.readers import staff_card_digests
from locker_host.store import StoreError, backup_database

from . import cli_admin, logs
from .commission import cli as cli_commission
from .config import ConfigError, DaemonConfig, load_config, wiring_hash
from .instance import AlreadyRunning
from .runtime import check_keys, link_config, run_daemon

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
logger = logging.getLogger("lockerd")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        match args.command:
            case "run":
                return _run(load_config(args.config))
            case "admin":
                return cli_admin.run(args)
            case "commission":
                return cli_commission.run(args)
            case "check-config":
                return _check(args.file)
            case "hash-card":
                return _hash_card(args)
            case "backup":
                return _backup(args)
            case "demo":
                return _demo(args)
            case "hash-token":
                return _hash_token(args)
    except (ConfigError, SecretsError, cli_admin.UsageProblem, cli_commission.UsageProblem) as exc:
        print(f"lockerd: {exc}", file=sys.stderr)
        return EXIT_USAGE
    raise AssertionError(args.command)


def _run(config: DaemonConfig) -> int:
    logs.configure(config.log_level)

    async def main_loop() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await run_daemon(config, stop)

    try:
        with asyncio.Runner(loop_factory=_loop_factory(config.event_loop)) as runner:
            runner.run(main_loop())
    except (ConfigError, AppError) as exc:
        logger.critical("cannot start: %s", exc, extra={"error": getattr(exc, "code", "")})
        return EXIT_USAGE
    except (OSError, AlreadyRunning) as exc:  # another daemon; the database cannot be created
        logger.critical("cannot run: %s", exc)
        return EXIT_FAILED
    except BaseExceptionGroup as group:
        logger.critical("stopped by an error", exc_info=group)
        return EXIT_FAILED
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    # Imported here, not above: the demo drives the simulator, which the
    # shipping daemon never loads (tests/test_architecture.py proves it).
    from demo import DemoOptions, run_demo  # noqa: PLC0415

    return run_demo(DemoOptions(args.port, args.keep, not args.no_browser_hint, args.engine))


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """[runtime] event_loop. uvloop (libuv) by default: the bus owner wakes
    the loop several times per transaction, and each turn of uvloop's loop
    costs less CPU than one of asyncio's (docs/benchmarks.md, daemon load).
    "asyncio" (None: the standard loop) is the fallback where uvloop misbehaves."""
    if name == "uvloop":
        return uvloop.new_event_loop
    return None


def _check(path: str) -> int:
    config = load_config(path)
    boards = sum(len(bus.boards) for bus in config.buses)
    print(
        f"{path}: ok: {config.locker.site}/{config.locker.locker}, {len(config.buses)} bus(es), "
        f"{boards} board(s), {len(config.locker.layout.compartments)} compartments, "
        f"{len(config.readers)} reader(s), {len(config.services)} service(s), "
        f"{len(config.staff)} staff card(s)"
    )
    print(f"wiring hash {wiring_hash(config.locker.layout, config.buses)}")
    try:
        keys = load_keys(config.paths.secrets)
    except SecretsError as exc:
        print(f"secrets: not checked: {exc}")
        return EXIT_OK
    check_keys(config, keys)
    link = link_config(config)
    print(f"secrets: ok ({config.paths.secrets})")
    if link is None:
        print("mqtt: not configured (no link to the central system)")
    else:
        print(
            f"mqtt: {', '.join(map(str, link.brokers))} (MQTT {link.protocol}) as "
            f"{link.mqtt_client_id}, root {link.topic_prefix}/"
            f"{link.site}/{link.locker}, tls {'on' if link.tls else 'off'}"
        )
    return EXIT_OK


def _hash_card(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    keys = load_keys(config.paths.secrets)
    if keys.staff is None:
        raise ConfigError("staff", "the secrets file has no [staff_keys] to hash with")
    number = _card_number()
    if not number:
        print("lockerd: no card number given", file=sys.stderr)
        return EXIT_USAGE
    digest = staff_card_digests(keys.staff, number)[0]
    print("[[staff]]")
    print(f'card_digest = "{digest.digest}"')
    print(f"key_version = {digest.key_version}")
    print(f'staff_id = "{args.staff_id}"')
    print(f'department = "{args.department}"')
    print(f'role = "{args.role}"')
    return EXIT_OK


def _backup(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        report = backup_database(config.paths.database, Path(args.destination))
    except StoreError as exc:
        print(f"lockerd: backup failed ({exc.code}): {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{report.destination}: {report.pages} pages, {report.size_bytes} bytes, integrity ok")
    return EXIT_OK


MIN_TOKEN = 16  # a token is a long random string: a short one could be guessed


def _hash_token(args: argparse.Namespace) -> int:
    if args.generate:
        token = secrets.token_urlsafe(32)
        # stderr: stdout stays the TOML to paste; the token is shown this once.
        print(f"token (give it to the {args.role}; shown once): {token}", file=sys.stderr)
    elif sys.stdin.isatty():
        token = getpass.getpass("token (not echoed): ").strip()
    else:
        token = sys.stdin.readline().strip()
    if len(token) < MIN_TOKEN:
        print(f"lockerd: a token has at least {MIN_TOKEN} characters", file=sys.stderr)
        return EXIT_USAGE
    print("[[http.tokens]]")
    print(f'name = "{args.name}"')
    print(f'role = "{args.role}"')
    print(f'sha256 = "{token_digest(token)}"')
    return EXIT_OK


def _card_number() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("staff card number (not echoed): ").strip()
    return sys.stdin.readline().strip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lockerd", description="The smart document locker daemon."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the daemon")
    run.add_argument("--config", required=True, help="the configuration file (TOML)")
    cli_admin.add_parser(sub)
    cli_commission.add_parser(sub)
    check = sub.add_parser("check-config", help="validate a configuration file")
    check.add_argument("file")
    card = sub.add_parser("hash-card", help="digest a staff card number (read from stdin)")
    card.add_argument("--config", required=True)
    card.add_argument("--staff-id", default="FILL-IN")
    card.add_argument("--department", default="FILL-IN")
    card.add_argument("--role", choices=("clerk", "supervisor", "technician"), default="clerk")
    backup = sub.add_parser("backup", help="an online, checked copy of the database")
    backup.add_argument("--config", required=True)
    backup.add_argument("destination", help="the new file (never overwritten)")
    demo = sub.add_parser(
        "demo", help="simulator, broker, daemon and a seeded hall on this machine (Ctrl-C stops)"
    )
    demo.add_argument("--port", type=int, help="the HTTP port on 127.0.0.1 (default: a free one)")
    demo.add_argument("--keep", action="store_true", help="keep the run directory afterwards")
    demo.add_argument(
        "--engine",
        choices=("cpython", "micropython"),
        default="cpython",
        help="where the simulated boards' firmware runs (micropython: real MicroPython, slower)",
    )
    demo.add_argument(
        "--no-browser-hint",
        action="store_true",
        help="print the URLs without the hint to open them",
    )
    token = sub.add_parser("hash-token", help="digest an HTTP API token (read from stdin)")
    token.add_argument("--name", default="FILL-IN", help="shown in the audit log as http:NAME")
    token.add_argument("--role", choices=[r.value for r in Role], default="staff")
    token.add_argument("--generate", action="store_true", help="make a new random token")
    return parser
