"""Domain state as JSON documents keyed by (kind, id).

The kinds are the domain's (``compartment``, ``item``, ``open``, ``timer``);
the store neither knows nor checks them, it only guarantees that a document
comes back exactly as it went in. The service loads everything at start-up
and afterwards saves only what a decision changed.

A document may not carry personal data (:data:`codec.PERSONAL_FIELD_NAMES`):
an item refers to its owner through a ``personal_ref``, so that the purge can
erase the owner without rewriting state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from .codec import (
    JsonObject,
    JsonValue,
    canonical_json,
    format_time,
    load_json_object,
    reject_personal_fields,
)


@dataclass(frozen=True)
class DocumentKey:
    kind: str
    id: str


@dataclass(frozen=True)
class Document:
    kind: str
    id: str
    body: JsonObject

    @property
    def key(self) -> DocumentKey:
        return DocumentKey(self.kind, self.id)


@dataclass(frozen=True)
class StateChanges:
    put: Sequence[Document] = ()
    delete: Sequence[DocumentKey] = ()

    def __bool__(self) -> bool:
        return bool(self.put or self.delete)


# kind -> id -> body
StateSnapshot = dict[str, dict[str, dict[str, JsonValue]]]


def load_all(db: sqlite_utils.Database) -> StateSnapshot:
    snapshot: StateSnapshot = {}
    for row in db.query("SELECT kind, id, body FROM state_documents ORDER BY kind, id"):
        snapshot.setdefault(row["kind"], {})[row["id"]] = load_json_object(row["body"])
    return snapshot


def apply_changes(db: sqlite_utils.Database, changes: StateChanges, now: datetime) -> None:
    """Upsert and delete documents; the caller holds the write transaction."""
    updated_at = format_time(now)
    if {d.key for d in changes.put} & set(changes.delete):
        raise ValueError("a document is both put and deleted in one change")
    rows = []
    for document in changes.put:
        reject_personal_fields(document.body, f"state document {document.kind}/{document.id}")
        rows.append(
            {
                "kind": document.kind,
                "id": document.id,
                "body": canonical_json(document.body),
                "updated_at": updated_at,
            }
        )
    if rows:
        db.table("state_documents").upsert_all(rows, pk=("kind", "id"))
    for key in changes.delete:
        db.execute("DELETE FROM state_documents WHERE kind = ? AND id = ?", [key.kind, key.id])
