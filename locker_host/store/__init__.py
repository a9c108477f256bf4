"""The SQLite adapter: the locker's durable truth.

Layout (each module has one job; import from here, not from them):

- ``store``        :class:`Store`, the synchronous front door, opened per database
- ``runner``       :class:`StoreRunner`, the same on one writer thread, for asyncio
- ``unit_of_work`` :class:`UnitOfWork` and its atomic ``commit`` (save before act)
- ``state``        domain state as JSON documents keyed by (kind, id)
- ``audit``        the append-only, hash-chained audit log and its verification
- ``outbox``       events for the central system: boot id, gap-free seq, cumulative ack
- ``personal``     owner keys and hashed pickup codes, and their purge
- ``commands``     command de-duplication (command_id -> reply)
- ``boots``        one row per process start
- ``backup``       an online, checked copy of the file while the daemon runs
- ``verify``       the audit chain of a database file, read-only (``lockerd audit verify``)
- ``migrations``   versioned schema, ``PRAGMA user_version``
- ``database``     connect (WAL, synchronous=FULL, quick_check), transactions
- ``codec``        canonical JSON, UTC timestamps, id types
- ``errors``       the exception tree and the one sqlite3 translation

The store knows nothing of the domain's classes: state, audit details and
event payloads are JSON objects, and personal data is kept apart so that it
can be purged without touching either.
"""

from .audit import (
    GENESIS,
    AuditEntry,
    AuditOutcome,
    AuditRecord,
    ChainBroken,
    ChainHead,
    ChainIntact,
    ChainProblem,
    ChainVerification,
)
from .backup import BackupReport, backup_database
from .boots import Boot
from .codec import (
    BootId,
    CommandId,
    EventId,
    JsonObject,
    JsonValue,
    PersonalRef,
    new_personal_ref,
)
from .commands import CommandReply, StoredCommandReply
from .errors import (
    AckBeyondHead,
    AckBootMismatch,
    ConstraintViolated,
    ForeignDatabase,
    InvalidAck,
    PersonalDataInDocument,
    SchemaMismatch,
    SchemaTooNew,
    StoreBusy,
    StoreClosed,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreUnavailable,
    UnknownPersonalRef,
)
from .migrations import LATEST_VERSION
from .outbox import OutboxEvent, OutboxStatistics, OutgoingEvent
from .personal import PersonalRecord, StoredPersonalRecord, hash_pickup_code
from .runner import RunnerStatistics, StoreRunner
from .state import Document, DocumentKey, StateChanges, StateSnapshot
from .store import Store, StoreConfig
from .unit_of_work import CommitReceipt, UnitOfWork
from .verify import verify_audit_file

__all__ = [
    "GENESIS",
    "LATEST_VERSION",
    "AckBeyondHead",
    "AckBootMismatch",
    "AuditEntry",
    "AuditOutcome",
    "AuditRecord",
    "BackupReport",
    "Boot",
    "BootId",
    "ChainBroken",
    "ChainHead",
    "ChainIntact",
    "ChainProblem",
    "ChainVerification",
    "CommandId",
    "CommandReply",
    "CommitReceipt",
    "ConstraintViolated",
    "Document",
    "DocumentKey",
    "EventId",
    "ForeignDatabase",
    "InvalidAck",
    "JsonObject",
    "JsonValue",
    "OutboxEvent",
    "OutboxStatistics",
    "OutgoingEvent",
    "PersonalDataInDocument",
    "PersonalRecord",
    "PersonalRef",
    "RunnerStatistics",
    "SchemaMismatch",
    "SchemaTooNew",
    "StateChanges",
    "StateSnapshot",
    "Store",
    "StoreBusy",
    "StoreClosed",
    "StoreConfig",
    "StoreCorrupt",
    "StoreError",
    "StoreFull",
    "StoreRunner",
    "StoreUnavailable",
    "StoredCommandReply",
    "StoredPersonalRecord",
    "UnitOfWork",
    "UnknownPersonalRef",
    "backup_database",
    "hash_pickup_code",
    "new_personal_ref",
    "verify_audit_file",
]
