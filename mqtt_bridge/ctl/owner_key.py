"""``lockerctl owner-key``: the owner_key a locker computes for an ID number.

The central system computes owner keys itself (docs/operations.md, "Owner
keys"; docs/asyncapi/owner-key-vectors.json); this command is the reference an
integrator checks an implementation against, and the way a tester gets the
key to ``reserve`` for a specimen card. It reads the locker's own secrets file
and uses the locker's own rule (``locker_host.domain.identity``), not a copy of
it: the one place where lockerctl imports the locker (tests/test_architecture.py).

The ID number is never a command-line argument (shell history, ``ps``): it is
the first line of stdin, or typed at a prompt without echo on a terminal. It is
not printed back, not even masked.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from locker_host.app.errors import SecretsError
from locker_host.app.secrets import load_keys
from locker_host.domain.errors import InvalidIdNumber
from locker_host.domain.identity import owner_key, validate_id_number

OK, REFUSED, USAGE = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "owner-key",
        help="compute an ID number's owner_key from a secrets file (ID number on stdin)",
        description="Print the owner_key of the ID number read from stdin (or typed at a "
        "prompt, not echoed) as `owner_key=HEX key_version:=N`, ready for `lockerctl send`.",
    )
    parser.add_argument("--secrets", required=True, help="the secrets file ([owner_keys])")
    parser.add_argument("--key-version", type=int, help="default: the file's current version")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead")
    parser.set_defaults(local=run)


def run(args: argparse.Namespace) -> int:
    try:
        keyring = load_keys(args.secrets).owner
    except SecretsError as exc:
        print(f"lockerctl: {exc.message}", file=sys.stderr)
        return USAGE
    version = keyring.current if args.key_version is None else args.key_version
    if version not in keyring.secrets:
        versions = ", ".join(str(v) for v in sorted(keyring.secrets))
        print(f"lockerctl: no owner secret of version {version} (has {versions})", file=sys.stderr)
        return USAGE
    raw = getpass.getpass("ID number: ") if sys.stdin.isatty() else sys.stdin.readline()
    try:
        number = validate_id_number(raw)
    except InvalidIdNumber as exc:
        print(f"lockerctl: not an ID number the locker accepts: {exc.message}", file=sys.stderr)
        return REFUSED
    key = owner_key(keyring.secrets[version], number)
    if args.json:
        print(json.dumps({"owner_key": key, "key_version": version}))
    else:
        print(f"owner_key={key} key_version:={version}")
    return OK
