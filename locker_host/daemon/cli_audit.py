"""`lockerd audit verify`: is the audit log's hash chain intact?

    lockerd audit verify --config FILE                 the database the configuration names
    lockerd audit verify --database FILE               or a database file (a backup, a copy)
        [--head SEQ:HASH | --state FILE]               and against a head seen from outside

The chain on the box catches a changed, deleted or reordered row by itself;
a rewrite of the whole tail or a truncation needs a head seen from outside:
the `audit_head` of the retained `state` message, which the central system
keeps (`--state` takes that message as saved, `-` for stdin). The file is
opened read-only and may be verified while the daemon runs.

Exit codes: 0 intact (one line: rows, head), 1 broken (one line: the first
seq that does not hold, the problem's code and what it means) or the file
cannot be read, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from locker_host.store import ChainBroken, ChainHead, ChainIntact, StoreError, verify_audit_file

from .config import load_config

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2
_HASH = re.compile(r"[0-9a-f]{64}")


class UsageProblem(Exception):
    pass


def add_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="the audit log: verify its hash chain")
    steps = audit.add_subparsers(dest="audit_step", required=True, metavar="STEP")
    verify = steps.add_parser("verify", help="walk the hash chain; exit 1 at the first bad row")
    where = verify.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", help="verify the database this configuration names")
    where.add_argument("--database", help="verify this database file")
    head = verify.add_mutually_exclusive_group()
    head.add_argument("--head", help="SEQ:HASH, a chain head published earlier")
    head.add_argument("--state", help="a retained state message (JSON file, - for stdin)")


def run(args: argparse.Namespace) -> int:
    path = Path(args.database) if args.database else load_config(args.config).paths.database
    anchor = _anchor(args)
    try:
        verdict = verify_audit_file(path, anchor)
    except StoreError as exc:
        print(f"lockerd: cannot verify {path} ({exc.code}): {exc}", file=sys.stderr)
        return EXIT_BROKEN
    match verdict:
        case ChainIntact(rows=rows, head=last):
            against = "" if anchor is None else f"; it holds the published head seq {anchor.seq}"
            print(f"audit chain intact: {rows} rows, head seq {last.seq} hash {last.hash}{against}")
            return EXIT_OK
        case ChainBroken(seq=seq, problem=problem, rows_verified=good):
            print(
                f"audit chain broken at seq {seq}: {problem.value}: {problem.explanation}"
                f" ({good} rows before it hold)"
            )
            return EXIT_BROKEN


def _anchor(args: argparse.Namespace) -> ChainHead | None:
    if args.head is not None:
        seq, _, hash_ = str(args.head).partition(":")
        return _head(seq, hash_, "--head must be SEQ:HASH (64 lower-case hex digits)")
    if args.state is None:
        return None
    try:
        text = sys.stdin.read() if args.state == "-" else Path(args.state).read_text("utf-8")
        head = json.loads(text)["audit_head"]
        return _head(head["seq"], head["hash"], "")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise UsageProblem(
            f"--state {args.state}: not a state message with audit_head {{seq, hash}} ({exc})"
        ) from None


def _head(seq: object, hash_: object, usage: str) -> ChainHead:
    if isinstance(seq, str) and seq.isascii() and seq.isdigit():
        seq = int(seq)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise UsageProblem(usage or "audit_head.seq must be an integer of at least 0")
    if not isinstance(hash_, str) or not _HASH.fullmatch(hash_):
        raise UsageProblem(usage or "audit_head.hash must be 64 lower-case hex digits")
    return ChainHead(seq=seq, hash=hash_)
