"""The audit log: append-only and hash-chained, so that tampering shows.

Theory of operation. Row ``n`` stores ``prev_hash`` (the hash of row ``n-1``,
or 64 zeros for row 1) and ``hash = SHA-256(canonical JSON of its fields and
prev_hash)``. Changing any field of a row breaks its own hash; recomputing that
hash breaks the next row's ``prev_hash``; deleting or reordering rows breaks
the gap-free ``seq`` or the links. :func:`verify_chain` walks the chain and
names the first row that does not hold.

What a chain on the box cannot show by itself is a rewrite of the whole tail
(every hash recomputed) or a truncation. That is why :func:`chain_head` is part
of the published state: verifying against a head seen from outside
(``anchor``) catches both.

Denied and failed attempts are recorded like successes (``outcome``). Personal
data never enters a row: a row refers to a ``personal_data`` row by ``ref`` and
commits to its content (see :mod:`.personal`), so purging personal data leaves
every hash intact. Triggers refuse UPDATE and DELETE on the table; they stop
bugs, the chain stops people.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlite_utils

from . import personal
from .codec import (
    BootId,
    JsonObject,
    JsonValue,
    PersonalRef,
    canonical_json,
    format_time,
    load_json_object,
    parse_time,
    reject_personal_fields,
)
from .errors import UnknownPersonalRef

GENESIS_HASH = "0" * 64
_HASH_FORMAT = 1  # bump (and keep the old one verifiable) if the hashed fields ever change


class AuditOutcome(StrEnum):
    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditRecord:
    """What the service asks to record."""

    actor: str
    action: str
    outcome: AuditOutcome
    compartment: str | None = None
    details: JsonObject = field(default_factory=dict)
    personal_ref: PersonalRef | None = None


@dataclass(frozen=True)
class AuditEntry:
    """A stored row."""

    seq: int
    recorded_at: datetime
    boot_id: BootId
    actor: str
    action: str
    outcome: str
    compartment: str | None
    details: dict[str, JsonValue]
    personal_ref: PersonalRef | None
    personal_commitment: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


GENESIS = ChainHead(seq=0, hash=GENESIS_HASH)


class ChainProblem(StrEnum):
    SEQ_GAP = "seq_gap"
    PREV_HASH_MISMATCH = "prev_hash_mismatch"
    HASH_MISMATCH = "hash_mismatch"
    PERSONAL_DATA_MISMATCH = "personal_data_mismatch"
    ANCHOR_MISMATCH = "anchor_mismatch"
    ANCHOR_MISSING = "anchor_missing"

    @property
    def explanation(self) -> str:
        """What it means, for people (``lockerd audit verify``)."""
        return _EXPLANATIONS[self]


_EXPLANATIONS = {
    ChainProblem.SEQ_GAP: "the row with this seq is missing: deleted, or rows reordered",
    ChainProblem.PREV_HASH_MISMATCH: (
        "its prev_hash is not the hash of the row before it: the row before was"
        " replaced, or rows were reordered"
    ),
    ChainProblem.HASH_MISMATCH: "its content does not give its stored hash: the row was changed",
    ChainProblem.PERSONAL_DATA_MISMATCH: "the personal_data row it refers to was changed",
    ChainProblem.ANCHOR_MISMATCH: (
        "its hash differs from the head published earlier: the log was rewritten"
        " (every hash recomputed) up to here"
    ),
    ChainProblem.ANCHOR_MISSING: (
        "the row of the head published earlier is gone: the log was truncated"
    ),
}


@dataclass(frozen=True)
class ChainIntact:
    rows: int
    head: ChainHead


@dataclass(frozen=True)
class ChainBroken:
    seq: int  # the first row that does not hold
    problem: ChainProblem
    rows_verified: int  # rows before it that did hold


ChainVerification = ChainIntact | ChainBroken

_COLUMNS = (
    "seq, recorded_at, boot_id, actor, action, outcome, compartment, details,"
    " personal_ref, personal_commitment, prev_hash, hash"
)


def chain_head(db: sqlite_utils.Database) -> ChainHead:
    row = db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return GENESIS if row is None else ChainHead(seq=int(row[0]), hash=str(row[1]))


def append(
    db: sqlite_utils.Database, record: AuditRecord, boot_id: BootId, now: datetime
) -> AuditEntry:
    """Append one row after the current head; the caller holds the write transaction."""
    reject_personal_fields(record.details, f"audit details of {record.action}")
    commitment = None
    if record.personal_ref is not None:
        commitment = personal.commitment(db, record.personal_ref)
        if commitment is None:
            raise UnknownPersonalRef(record.personal_ref)
    head = chain_head(db)
    row: dict[str, Any] = {
        "seq": head.seq + 1,
        "recorded_at": format_time(now),
        "boot_id": boot_id,
        "actor": record.actor,
        "action": record.action,
        "outcome": AuditOutcome(record.outcome).value,
        "compartment": record.compartment,
        "details": canonical_json(record.details),
        "personal_ref": record.personal_ref,
        "personal_commitment": commitment,
        "prev_hash": head.hash,
    }
    row["hash"] = _row_hash(row)
    db.table("audit_log").insert(row)
    return _entry(row)


def entries(db: sqlite_utils.Database, *, after_seq: int = 0, limit: int = 100) -> list[AuditEntry]:
    sql = f"SELECT {_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?"
    return [_entry(row) for row in db.query(sql, [after_seq, limit])]


def search(
    db: sqlite_utils.Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 100,
    newest_first: bool = False,
) -> list[AuditEntry]:
    """Rows recorded in ``[since, until)``; ``actor`` matches itself and what it prefixes
    up to a ``:`` (``staff`` finds ``staff:S001``); ``action`` matches exactly."""
    where: list[str] = ["1"]
    params: list[object] = []
    if since is not None:
        where.append("recorded_at >= ?")
        params.append(format_time(since))
    if until is not None:
        where.append("recorded_at < ?")
        params.append(format_time(until))
    if actor is not None:
        # substr, not LIKE: an actor may contain '%' or '_'.
        where.append("(actor = ? OR substr(actor, 1, ?) = ?)")
        params += [actor, len(actor) + 1, actor + ":"]
    if action is not None:
        where.append("action = ?")
        params.append(action)
    order = "DESC" if newest_first else "ASC"
    sql = f"SELECT {_COLUMNS} FROM audit_log WHERE {' AND '.join(where)} ORDER BY seq {order}"
    sql += " LIMIT ?"
    return [_entry(row) for row in db.query(sql, [*params, limit])]


def verify_chain(db: sqlite_utils.Database, anchor: ChainHead | None = None) -> ChainVerification:
    """Walk the whole chain; with ``anchor`` (a head published earlier) also catch rewrites."""
    previous = GENESIS
    verified = 0
    for row in db.query(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq"):
        seq = row["seq"]
        problem = _check_row(db, row, previous)
        if problem is None and anchor is not None and anchor.seq == seq:
            problem = _anchor_problem(anchor, row["hash"])
        if problem is not None:
            bad_seq = previous.seq + 1 if problem is ChainProblem.SEQ_GAP else seq
            return ChainBroken(seq=bad_seq, problem=problem, rows_verified=verified)
        previous = ChainHead(seq=seq, hash=row["hash"])
        verified += 1
    if anchor is not None and anchor.seq > previous.seq:
        return ChainBroken(
            seq=anchor.seq, problem=ChainProblem.ANCHOR_MISSING, rows_verified=verified
        )
    return ChainIntact(rows=verified, head=previous)


def _check_row(
    db: sqlite_utils.Database, row: Mapping[str, Any], previous: ChainHead
) -> ChainProblem | None:
    if row["seq"] != previous.seq + 1:
        return ChainProblem.SEQ_GAP
    if row["prev_hash"] != previous.hash:
        return ChainProblem.PREV_HASH_MISMATCH
    try:
        expected = _row_hash(row)
    except (ValueError, TypeError):  # details no longer a JSON object
        return ChainProblem.HASH_MISMATCH
    if row["hash"] != expected:
        return ChainProblem.HASH_MISMATCH
    if row["personal_ref"] is not None:
        current = personal.commitment(db, row["personal_ref"])
        # None: purged, which is allowed and cannot be checked any more.
        if current is not None and current != row["personal_commitment"]:
            return ChainProblem.PERSONAL_DATA_MISMATCH
    return None


def _anchor_problem(anchor: ChainHead, stored_hash: str) -> ChainProblem | None:
    return None if stored_hash == anchor.hash else ChainProblem.ANCHOR_MISMATCH


def _row_hash(row: Mapping[str, Any]) -> str:
    hashed: dict[str, JsonValue] = {
        "format": _HASH_FORMAT,
        "seq": row["seq"],
        "recorded_at": row["recorded_at"],
        "boot_id": row["boot_id"],
        "actor": row["actor"],
        "action": row["action"],
        "outcome": row["outcome"],
        "compartment": row["compartment"],
        "details": load_json_object(row["details"]),
        "personal_ref": row["personal_ref"],
        "personal_commitment": row["personal_commitment"],
        "prev_hash": row["prev_hash"],
    }
    return hashlib.sha256(canonical_json(hashed).encode()).hexdigest()


def _entry(row: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        seq=row["seq"],
        recorded_at=parse_time(row["recorded_at"]),
        boot_id=BootId(row["boot_id"]),
        actor=row["actor"],
        action=row["action"],
        outcome=row["outcome"],
        compartment=row["compartment"],
        details=load_json_object(row["details"]),
        personal_ref=None if row["personal_ref"] is None else PersonalRef(row["personal_ref"]),
        personal_commitment=row["personal_commitment"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
