"""Personal data: owner keys and hashed pickup codes, and their purge.

This table is the only place personal data is stored (PIPL Art. 19 and 47,
shared/notes/reliability-security.md 4.7). What is stored is already
pseudonymous:

- ``owner_key`` = HMAC-SHA256(owner key secret, normalised ID number), computed
  at the edge with a secret kept outside this database, plus its
  ``key_version`` so the secret can rotate;
- ``pickup_code_hash`` = :func:`hash_pickup_code`, keyed with a secret for the
  same reason: a 6-digit code hashed without a key is reversed in a second.

A row belongs to an item (``item_id``) until the item ends
(:func:`end_item`), then lives ``retention`` longer and is deleted by
:func:`purge`. A row without an item (e.g. the owner key of a refused swipe,
kept so the denial can be investigated) ends when it is written.

Audit rows refer to a row by its random ``ref`` and commit to its content with
``HMAC-SHA256(nonce, content)``, the nonce being stored in the row itself. While
the row exists, :func:`audit.verify_chain` checks it against the commitment;
once it is purged, the nonce is gone with it and the commitment reveals
nothing, so the purge neither breaks the chain nor leaves a linkable token
behind. Hence rows are immutable (a trigger enforces it) except ``ended_at``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from .codec import PersonalRef, canonical_json, format_time, parse_time

_NONCE_BYTES = 32
_PICKUP_CODE_CONTEXT = b"locker pickup code v1\x00"


@dataclass(frozen=True)
class PersonalRecord:
    ref: PersonalRef
    owner_key: str | None = None
    key_version: int | None = None
    pickup_code_hash: str | None = None
    item_id: str | None = None

    def __post_init__(self) -> None:
        if self.owner_key is None and self.pickup_code_hash is None:
            raise ValueError("a personal record needs an owner_key or a pickup_code_hash")
        if (self.owner_key is None) != (self.key_version is None):
            raise ValueError("owner_key and key_version go together")


@dataclass(frozen=True)
class StoredPersonalRecord:
    record: PersonalRecord
    created_at: datetime
    ended_at: datetime | None


def hash_pickup_code(secret: bytes, code: str) -> str:
    # Not salted per item: a proxy types only the code, and the lookup is by
    # hash. The secret is what makes the small code space unsearchable.
    message = _PICKUP_CODE_CONTEXT + code.strip().encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def insert(db: sqlite_utils.Database, record: PersonalRecord, now: datetime) -> None:
    created_at = format_time(now)
    db.table("personal_data").insert(
        {
            "ref": record.ref,
            "item_id": record.item_id,
            "owner_key": record.owner_key,
            "key_version": record.key_version,
            "pickup_code_hash": record.pickup_code_hash,
            "nonce": secrets.token_bytes(_NONCE_BYTES),
            "created_at": created_at,
            "ended_at": created_at if record.item_id is None else None,
        }
    )


def get(db: sqlite_utils.Database, ref: str) -> StoredPersonalRecord | None:
    rows = list(db.query(f"SELECT {_COLUMNS} FROM personal_data WHERE ref = ?", [ref]))
    return _stored(rows[0]) if rows else None


def find_active(
    db: sqlite_utils.Database,
    *,
    owner_keys: Collection[str] = (),
    pickup_code_hash: str | None = None,
) -> list[StoredPersonalRecord]:
    """Rows of items not yet ended that match any of the keys (all key versions) or the code."""
    conditions = []
    params: list[str] = []
    if owner_keys:
        conditions.append(f"owner_key IN ({', '.join('?' * len(owner_keys))})")
        params.extend(owner_keys)
    if pickup_code_hash is not None:
        conditions.append("pickup_code_hash = ?")
        params.append(pickup_code_hash)
    if not conditions:
        return []
    sql = (
        f"SELECT {_COLUMNS} FROM personal_data WHERE ended_at IS NULL"
        f" AND ({' OR '.join(conditions)}) ORDER BY created_at, ref"
    )
    return [_stored(row) for row in db.query(sql, params)]


def active(db: sqlite_utils.Database) -> list[StoredPersonalRecord]:
    """Every row whose item has not ended: what the service needs in memory after a restart."""
    sql = f"SELECT {_COLUMNS} FROM personal_data WHERE ended_at IS NULL ORDER BY created_at, ref"
    return [_stored(row) for row in db.query(sql)]


def end_item(db: sqlite_utils.Database, item_id: str, now: datetime) -> int:
    """Start the retention clock of an item's rows; return how many rows it touched."""
    cursor = db.execute(
        "UPDATE personal_data SET ended_at = ? WHERE item_id = ? AND ended_at IS NULL",
        [format_time(now), item_id],
    )
    return cursor.rowcount


def purge(db: sqlite_utils.Database, now: datetime, retention: timedelta) -> int:
    """Delete rows that ended at least ``retention`` before ``now``; return how many."""
    cutoff = format_time(now - retention)
    cursor = db.execute(
        "DELETE FROM personal_data WHERE ended_at IS NOT NULL AND ended_at <= ?", [cutoff]
    )
    return cursor.rowcount


def commitment(db: sqlite_utils.Database, ref: str) -> str | None:
    """HMAC-SHA256(row nonce, canonical content) of the row as it is now; None once purged."""
    rows = list(db.query(f"SELECT {_COLUMNS}, nonce FROM personal_data WHERE ref = ?", [ref]))
    if not rows:
        return None
    row = rows[0]
    content = {name: row[name] for name in _COMMITTED}
    return hmac.new(row["nonce"], canonical_json(content).encode(), hashlib.sha256).hexdigest()


_COMMITTED = ("ref", "item_id", "owner_key", "key_version", "pickup_code_hash", "created_at")
_COLUMNS = ", ".join((*_COMMITTED, "ended_at"))


def _stored(row: dict[str, Any]) -> StoredPersonalRecord:
    return StoredPersonalRecord(
        record=PersonalRecord(
            ref=PersonalRef(row["ref"]),
            owner_key=row["owner_key"],
            key_version=row["key_version"],
            pickup_code_hash=row["pickup_code_hash"],
            item_id=row["item_id"],
        ),
        created_at=parse_time(row["created_at"]),
        ended_at=None if row["ended_at"] is None else parse_time(row["ended_at"]),
    )
