"""Splitting personal data out of the state documents, and joining it back in.

The domain state carries three kinds of personal value: an owner's key
(``OwnerRef``: claims, items, a citizen's open, a drop-off expectation), a
code digest (``CodeDigest``: an item's pickup code, a drop-off code) and a bare
owner key (the code guard's per-owner counters). None of them may sit in a
state document: the store keeps them only in ``personal_data``, so that they
can be purged (locker_host/store/personal.py). A document holds
``{"personal_ref": ref}`` instead (a code digest keeps its non-secret key
version and length next to the ref).

Each value is addressed by ``(scope, value)``, the scope naming where it sits
(``item:<id>``, ``claim:<compartment>``, ``open:<id>``, ``dropoff:<application>``,
``guard.failures`` ...). Re-saving a document finds the row it already has; a
new value gets a new row. A row lives exactly as long as a document refers to
it: its ``item_id`` column (the store's lifetime key, ``end_item``) is
``<scope>#<ref>``, private to the row, so it starts its retention clock the
moment the item is collected, the claim released, the open finished, and not
a moment later (PIPL Art. 19, 47); the scope still tells an investigator which
item it belonged to. ``PersonalIndex`` is that bookkeeping for the state on
disk; ``Splitter`` builds the rows for new documents; ``Joiner`` resolves refs
when the state is loaded again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from locker_host.domain import CodeDigest, OwnerKey, OwnerRef
from locker_host.store import DocumentKey, PersonalRecord, PersonalRef, new_personal_ref

# A bare ``str`` is an owner key without its version (the code guard keeps none).
PersonalValue = OwnerRef | CodeDigest | str
Slot = tuple[str, PersonalValue]
PERSONAL_REF = "personal_ref"


@dataclass(frozen=True)
class PersonalIndex:
    refs: Mapping[Slot, PersonalRef] = field(default_factory=dict)
    holders: Mapping[PersonalRef, str] = field(default_factory=dict)  # ref -> item_id column
    doc_refs: Mapping[DocumentKey, frozenset[PersonalRef]] = field(default_factory=dict)

    def after(
        self,
        documents: Mapping[DocumentKey, frozenset[PersonalRef]],
        deleted: Iterable[DocumentKey],
        splitter: Splitter,
    ) -> tuple[PersonalIndex, tuple[str, ...]]:
        """The index once the re-encoded ``documents`` and the deletions are saved,
        and the lifetime keys of the rows that end (no document refers to them any more)."""
        doc_refs = dict(self.doc_refs)
        for key in deleted:
            doc_refs.pop(key, None)
        doc_refs.update(documents)
        in_use = frozenset().union(*doc_refs.values())
        refs = {
            slot: ref for slot, ref in {**self.refs, **splitter.new_refs}.items() if ref in in_use
        }
        holders = {
            ref: holder
            for ref, holder in {**self.holders, **splitter.new_holders}.items()
            if ref in in_use
        }
        ended = sorted(h for r, h in self.holders.items() if r not in in_use)
        return PersonalIndex(refs, holders, doc_refs), tuple(ended)


class Splitter:
    """Encodes personal values as refs, reusing the rows of ``index``; collects new rows."""

    def __init__(self, index: PersonalIndex, bare_key_version: int) -> None:
        self._index = index
        # The code guard keeps owner keys without their version; they were made
        # with the current version moments ago, which the row records.
        self._bare_key_version = bare_key_version
        self.new_records: list[PersonalRecord] = []
        self.new_refs: dict[Slot, PersonalRef] = {}
        self.new_holders: dict[PersonalRef, str] = {}
        self._used: set[PersonalRef] = set()

    def start_document(self) -> None:
        self._used = set()

    def finish_document(self) -> frozenset[PersonalRef]:
        return frozenset(self._used)

    def owner(self, scope: str, owner: OwnerRef) -> dict[str, Any]:
        def row(ref: PersonalRef, holder: str) -> PersonalRecord:
            return PersonalRecord(
                ref, owner_key=owner.key, key_version=owner.key_version, item_id=holder
            )

        return {PERSONAL_REF: self._ref(scope, owner, row)}

    def code(self, scope: str, code: CodeDigest) -> dict[str, Any]:
        def row(ref: PersonalRef, holder: str) -> PersonalRecord:
            return PersonalRecord(ref, pickup_code_hash=code.digest, item_id=holder)

        ref = self._ref(scope, code, row)
        return {PERSONAL_REF: ref, "key_version": code.key_version, "length": code.length}

    def bare_owner_key(self, scope: str, key: OwnerKey) -> PersonalRef:
        def row(ref: PersonalRef, holder: str) -> PersonalRecord:
            return PersonalRecord(
                ref, owner_key=key, key_version=self._bare_key_version, item_id=holder
            )

        return self._ref(scope, str(key), row)

    def _ref(
        self,
        scope: str,
        value: PersonalValue,
        make: Callable[[PersonalRef, str], PersonalRecord],
    ) -> PersonalRef:
        slot = (scope, value)
        ref = self._index.refs.get(slot) or self.new_refs.get(slot)
        if ref is None:
            ref = new_personal_ref()
            holder = f"{scope}#{ref}"
            self.new_records.append(make(ref, holder))
            self.new_refs[slot] = ref
            self.new_holders[ref] = holder
        self._used.add(ref)
        return ref


class Joiner:
    """Resolves refs against the active personal rows; rebuilds the index as it goes.

    A ref without a row (a damaged database: live state's rows are never
    purged) resolves to ``None`` and is listed in ``missing``: the item stays
    and staff can still recall it, where refusing to start would lock every
    citizen out.
    """

    def __init__(self, records: Iterable[PersonalRecord]) -> None:
        self._records = {r.ref: r for r in records}
        self.refs: dict[Slot, PersonalRef] = {}
        self.holders: dict[PersonalRef, str] = {}
        self.doc_refs: dict[DocumentKey, frozenset[PersonalRef]] = {}
        self.missing: list[str] = []
        self._used: set[PersonalRef] = set()

    def start_document(self) -> None:
        self._used = set()

    def finish_document(self, key: DocumentKey) -> None:
        self.doc_refs[key] = frozenset(self._used)

    def index(self) -> PersonalIndex:
        return PersonalIndex(dict(self.refs), dict(self.holders), dict(self.doc_refs))

    def owner(self, scope: str, plain: Any) -> OwnerRef | None:
        if plain is None:
            return None
        record = self._record(plain)
        if record is None or record.owner_key is None or record.key_version is None:
            return None
        value = OwnerRef(OwnerKey(record.owner_key), record.key_version)
        self._remember(scope, value, record)
        return value

    def code(self, scope: str, plain: Any) -> CodeDigest | None:
        if plain is None:
            return None
        record = self._record(plain)
        if record is None or record.pickup_code_hash is None:
            return None
        value = CodeDigest(record.pickup_code_hash, int(plain["key_version"]), int(plain["length"]))
        self._remember(scope, value, record)
        return value

    def bare_owner_key(self, scope: str, ref: str) -> OwnerKey | None:
        record = self._record({PERSONAL_REF: ref})
        if record is None or record.owner_key is None:
            return None
        self._remember(scope, record.owner_key, record)
        return OwnerKey(record.owner_key)

    def _record(self, plain: Any) -> PersonalRecord | None:
        ref = plain[PERSONAL_REF]
        record = self._records.get(ref)
        if record is None:
            self.missing.append(str(ref))
        return record

    def _remember(self, scope: str, value: PersonalValue, record: PersonalRecord) -> None:
        self.refs[scope, value] = record.ref
        # Rows without an item end when written, so a live row always has one.
        self.holders[record.ref] = record.item_id or f"#{record.ref}"
        self._used.add(record.ref)
