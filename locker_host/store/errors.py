"""The store's exceptions, and the one place where sqlite3's are translated.

Every error carries a stable machine ``code``; the HTTP and MQTT layers map
codes to replies, alarms and metrics, never messages::

    StoreError                      store_error
    ├── StoreUnavailable            store_unavailable   cannot open, I/O error, read-only
    │   ├── StoreBusy               store_busy          locked past busy_timeout
    │   └── StoreFull               store_full          disk or quota full
    ├── StoreCorrupt                store_corrupt       quick_check failed, not a database
    ├── SchemaMismatch
    │   ├── SchemaTooNew            schema_too_new      newer code wrote it: never downgrade
    │   └── ForeignDatabase         foreign_database    another application's file
    ├── StoreClosed                 store_closed
    ├── ConstraintViolated          store_constraint    a CHECK, key or trigger refused a write
    ├── InvalidAck                                      the peer acknowledged something impossible
    │   ├── AckBeyondHead           outbox_ack_beyond_head
    │   └── AckBootMismatch         outbox_ack_boot_mismatch
    ├── PersonalDataInDocument      personal_data_in_document
    └── UnknownPersonalRef          unknown_personal_ref

sqlite3 exceptions are translated only by :func:`map_sqlite_errors`, which the
public entry points (:class:`~locker_host.store.store.Store`) wrap around their
work, in the manner of httpx's ``map_httpcore_exceptions``. The original
exception stays attached as ``__cause__``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

# Primary result codes, https://www.sqlite.org/rescode.html. Extended codes
# carry the primary code in their low byte.
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_CONSTRAINT = 19
_SQLITE_NOTADB = 26


class StoreError(Exception):
    code = "store_error"


class StoreUnavailable(StoreError):
    code = "store_unavailable"


class StoreBusy(StoreUnavailable):
    code = "store_busy"


class StoreFull(StoreUnavailable):
    code = "store_full"


class StoreCorrupt(StoreError):
    code = "store_corrupt"

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class SchemaMismatch(StoreError):
    code = "schema_mismatch"


class SchemaTooNew(SchemaMismatch):
    code = "schema_too_new"

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"database schema version {found} is newer than this code supports ({supported})"
        )
        self.found = found
        self.supported = supported


class ForeignDatabase(SchemaMismatch):
    code = "foreign_database"

    def __init__(self, application_id: int) -> None:
        super().__init__(f"not a locker database (application_id={application_id:#x})")
        self.application_id = application_id


class StoreClosed(StoreError):
    code = "store_closed"


class ConstraintViolated(StoreError):
    code = "store_constraint"


class InvalidAck(StoreError):
    code = "outbox_ack_invalid"


class AckBeyondHead(InvalidAck):
    code = "outbox_ack_beyond_head"

    def __init__(self, seq: int, head_seq: int) -> None:
        super().__init__(f"ack for seq {seq} but the last event written is {head_seq}")
        self.seq = seq
        self.head_seq = head_seq


class AckBootMismatch(InvalidAck):
    code = "outbox_ack_boot_mismatch"

    def __init__(self, seq: int, acked_boot_id: str, stored_boot_id: str) -> None:
        super().__init__(
            f"ack for seq {seq} names boot {acked_boot_id}, but boot {stored_boot_id} wrote it"
        )
        self.seq = seq
        self.acked_boot_id = acked_boot_id
        self.stored_boot_id = stored_boot_id


class PersonalDataInDocument(StoreError):
    """A state document or audit detail carries a personal-data field.

    Those live only in ``personal_data`` so that the purge can reach them; the
    caller refers to them by ``personal_ref``.
    """

    code = "personal_data_in_document"

    def __init__(self, where: str, path: str) -> None:
        super().__init__(f"{where} holds personal data at {path}; store it as personal data")
        self.where = where
        self.path = path


class UnknownPersonalRef(StoreError):
    code = "unknown_personal_ref"

    def __init__(self, ref: str) -> None:
        super().__init__(f"no personal data with ref {ref}")
        self.ref = ref


@contextmanager
def map_sqlite_errors() -> Iterator[None]:
    """Translate sqlite3 exceptions raised inside the block into the tree above."""
    try:
        yield
    except sqlite3.ProgrammingError as exc:
        # The only ProgrammingError a correct caller can meet is a closed
        # connection; anything else is a bug here and keeps its own type.
        if "closed" in str(exc):
            raise StoreClosed(str(exc)) from exc
        raise
    except sqlite3.IntegrityError as exc:
        raise ConstraintViolated(str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise _translate(exc) from exc


def _translate(exc: sqlite3.DatabaseError) -> StoreError:
    primary = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    message = str(exc)
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return StoreBusy(message)
    if primary == _SQLITE_FULL:
        return StoreFull(message)
    if primary in (_SQLITE_IOERR, _SQLITE_CANTOPEN, _SQLITE_READONLY):
        return StoreUnavailable(message)
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return StoreCorrupt(message)
    if primary == _SQLITE_CONSTRAINT:
        return ConstraintViolated(message)
    return StoreError(message)
