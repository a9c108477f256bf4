"""`lockerd admin`: one request to the running daemon over its local socket.

    lockerd admin [--config FILE | --socket PATH] COMMAND [--json PAYLOAD | FIELD ...]

A FIELD is `key=value` (the value is a string) or `key:=json` (the value is
JSON: `key_version:=2`, `accessible:=true`). For the application command
API the envelope is filled in when missing: a fresh `command_id`,
`expires_at` five minutes from now, and `operator` = `admin:<login>`, so

    lockerd admin reserve application=A-1 owner_key=… key_version:=1 size=M \\
        department=market deadline=2030-01-01T00:00:00+08:00

is enough. The reply is printed as JSON. Exit codes: 0 ok, 1 refused or the
daemon cannot be reached, 2 a usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from locker_host.app import COMMANDS

from .admin import call
from .config import DEFAULT_ADMIN_SOCKET, load_config

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
ENVELOPE_LIFETIME = timedelta(minutes=5)


class UsageProblem(Exception):
    pass


def add_parser(sub: Any) -> None:
    admin = sub.add_parser("admin", help="send one command to the running daemon")
    where = admin.add_mutually_exclusive_group()
    where.add_argument("--config", help="find the admin socket in this configuration")
    where.add_argument("--socket", help=f"the admin socket (default {DEFAULT_ADMIN_SOCKET})")
    admin.add_argument("--json", dest="payload", help="the whole payload as a JSON object")
    admin.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (30)")
    admin.add_argument("name", metavar="COMMAND", help="e.g. reserve, inventory, state, ping")
    admin.add_argument("fields", nargs="*", metavar="FIELD", help="key=value or key:=json")


def run(args: argparse.Namespace) -> int:
    payload = payload_of(args.payload, args.fields)
    if args.name in COMMANDS:
        payload = with_envelope(payload)
    socket = Path(args.socket) if args.socket else None
    if socket is None:
        socket = (
            load_config(args.config).paths.admin_socket
            if args.config
            else Path(DEFAULT_ADMIN_SOCKET)
        )
    try:
        reply = call(socket, args.name, payload, timeout=args.timeout)
    except (ConnectionError, TimeoutError) as exc:
        print(f"lockerd: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(json.dumps(reply, ensure_ascii=False, indent=2))
    return EXIT_OK if reply.get("ok") else EXIT_REFUSED


def payload_of(raw: str | None, fields: list[str]) -> dict[str, Any]:
    if raw is not None and fields:
        raise UsageProblem("give --json or fields, not both")
    if raw is not None:
        try:
            payload = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UsageProblem(f"--json: not JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise UsageProblem("--json: the payload must be a JSON object")
        return payload
    found: dict[str, Any] = {}
    for field in fields:
        key, json_value, value = _split(field)
        if key in found:
            raise UsageProblem(f"{key}: given twice")
        if json_value:
            try:
                found[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise UsageProblem(f"{key}:= takes JSON: {exc}") from None
        else:
            found[key] = value
    return found


def _split(field: str) -> tuple[str, bool, str]:
    if ":=" in field and field.index(":=") < field.find("=") + 1:
        key, value = field.split(":=", 1)
        json_value = True
    elif "=" in field:
        key, value = field.split("=", 1)
        json_value = False
    else:
        raise UsageProblem(f"{field!r}: a field is key=value or key:=json")
    if not key:
        raise UsageProblem(f"{field!r}: the key is empty")
    return key, json_value, value


def with_envelope(payload: dict[str, Any]) -> dict[str, Any]:
    expires = datetime.now(UTC) + ENVELOPE_LIFETIME
    return {
        "command_id": f"admin-{uuid.uuid4()}",
        "expires_at": expires.isoformat(timespec="seconds"),
        "operator": f"admin:{_login()}",
        **payload,
    }


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
