"""The commissioning record: which compartments a walk proved, on which wiring map.

A wrong map opens someone else's door, so citizen flows wait until every
compartment of the configured layout passed a walk (`lockerd commission
walk`) made on the map that is configured now (`config.wiring_hash`). The
record is one state document (`commissioning/wiring`) next to the locker's
own, written together with an audit row in one transaction; the daemon reads
it at start-up (commissioning runs while the daemon is stopped: it needs the
serial ports) and answers citizen flows `not_commissioned` until it holds.
Staff and maintenance opens are never refused for it.

A walk over some compartments keeps the earlier results of the others, as
long as the map did not change; a changed map starts the record afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from locker_host.app import AppError, NotCommissioned
from locker_host.domain import Layout
from locker_host.store import (
    AuditOutcome,
    AuditRecord,
    Document,
    StateChanges,
    StateSnapshot,
    Store,
    UnitOfWork,
)

KIND = "commissioning"
DOCUMENT_ID = "wiring"


@dataclass(frozen=True)
class CompartmentResult:
    compartment: str
    passed: bool
    door: str  # normal | inverted | not_fitted | no_reaction
    item: str  # normal | inverted | not_fitted | unverified
    detail: str  # why it failed, or what the technician should know
    walked_at: str  # RFC 3339, UTC


@dataclass(frozen=True)
class CommissioningRecord:
    wiring_hash: str
    results: Mapping[str, CompartmentResult]

    def to_document(self) -> dict[str, Any]:
        return {
            "format": 1,
            "wiring_hash": self.wiring_hash,
            "results": {cid: asdict(r) for cid, r in sorted(self.results.items())},
        }

    @classmethod
    def from_document(cls, body: Mapping[str, Any]) -> CommissioningRecord:
        results = {cid: CompartmentResult(**r) for cid, r in body["results"].items()}
        return cls(str(body["wiring_hash"]), results)

    def merged(
        self, wiring_hash: str, walked: Mapping[str, CompartmentResult]
    ) -> CommissioningRecord:
        """This record after a walk on the map `wiring_hash`."""
        kept = self.results if wiring_hash == self.wiring_hash else {}
        return CommissioningRecord(wiring_hash, {**kept, **walked})


EMPTY = CommissioningRecord("", {})


@dataclass(frozen=True)
class CommissioningStatus:
    wiring_hash: str  # of the configured map
    recorded_hash: str | None  # of the map the record was made on; None: never walked
    passed: tuple[str, ...]
    failed: tuple[str, ...]
    not_walked: tuple[str, ...]

    @property
    def commissioned(self) -> bool:
        return self.recorded_hash == self.wiring_hash and not self.failed and not self.not_walked

    def refusal(self) -> AppError | None:
        """The `citizen_gate` of the kiosk: None once commissioned."""
        if self.commissioned:
            return None
        if self.recorded_hash is not None and self.recorded_hash != self.wiring_hash:
            why = "the wiring map changed since it was commissioned; walk it again"
        else:
            why = "the wiring map is not commissioned; a technician must walk it first"
        return NotCommissioned(why, failed=len(self.failed), not_walked=len(self.not_walked))

    def as_dict(self) -> dict[str, Any]:
        return {
            "commissioned": self.commissioned,
            "wiring_hash": self.wiring_hash,
            "recorded_hash": self.recorded_hash,
            "passed": list(self.passed),
            "failed": list(self.failed),
            "not_walked": list(self.not_walked),
        }


def status_of(
    record: CommissioningRecord | None, layout: Layout, wiring_hash: str
) -> CommissioningStatus:
    results = {} if record is None or record.wiring_hash != wiring_hash else record.results
    ids = [spec.id for spec in layout]
    return CommissioningStatus(
        wiring_hash=wiring_hash,
        recorded_hash=None if record is None else record.wiring_hash,
        passed=tuple(c for c in ids if c in results and results[c].passed),
        failed=tuple(c for c in ids if c in results and not results[c].passed),
        not_walked=tuple(c for c in ids if c not in results),
    )


def record_from(snapshot: StateSnapshot) -> CommissioningRecord | None:
    body = snapshot.get(KIND, {}).get(DOCUMENT_ID)
    return None if body is None else CommissioningRecord.from_document(body)


def load_record(store: Store) -> CommissioningRecord | None:
    return record_from(store.load_state())


def save_walk(
    store: Store,
    record: CommissioningRecord,
    walked: Mapping[str, CompartmentResult],
    *,
    actor: str,
    now: datetime,
) -> None:
    """The new record and the walk's audit row, in one transaction."""
    failed = sorted(cid for cid, r in walked.items() if not r.passed)
    audit = AuditRecord(
        actor=actor,
        action="commission.walk",
        outcome=AuditOutcome.FAILED if failed else AuditOutcome.OK,
        details={
            "wiring_hash": record.wiring_hash,
            "walked": sorted(walked),
            "failed": failed,
            "results": {cid: asdict(r) for cid, r in sorted(walked.items())},
        },
    )
    document = Document(KIND, DOCUMENT_ID, record.to_document())
    store.commit(UnitOfWork(state=StateChanges(put=[document]), audit=[audit]), now=now)


def record_board_change(
    store: Store, action: str, details: dict[str, Any], *, actor: str, ok: bool, now: datetime
) -> None:
    """An audit row for a change to a board made during commissioning (a new address)."""
    outcome = AuditOutcome.OK if ok else AuditOutcome.FAILED
    audit = AuditRecord(actor=actor, action=action, outcome=outcome, details=details)
    store.commit(UnitOfWork(audit=[audit]), now=now)
