"""The application layer: load -> decide -> save -> act (DESIGN.md section 2).

It drives the pure domain through small ports and keeps SQLite (through the
store's writer thread) as the truth. The daemon's admin CLI, the MQTT link
and the HTTP API only map onto ``CommandApi`` and ``Kiosk``; the bus adapter
feeds ``LockerService.observe``; the daemon runs a ``DeadlineTimer``, which
arms one timer for ``LockerService.next_wakeup`` and calls ``on_timer``.

Layout, like Trio's: small modules, one job each, re-exported here.

  the loop         service.py (LockerService: one writer, write-ahead, effects after commit),
                   timer.py (DeadlineTimer: one timer for the next deadline)
  front doors      api.py (CommandApi: central commands, dedup, expiry),
                   commands.py + payload.py (typed requests, parse_command),
                   kiosk.py (card reader and touch screen), operators.py (the local
                   pages' staff actions), presentations.py (what a card, a staff
                   card or a code presented at a reader or the kiosk screen does;
                   the armed drop-off), replies.py (Reply values: Done, Refusal,
                   their Category, the registry of codes; to_json for every edge)
  read-only        queries.py (audit log search, outbox figures)
  persistence      persistence.py (Decision -> UnitOfWork, and back), documents.py
                   (state documents), personal.py (personal data split out by ref),
                   records.py (audit rows, events), layout_change.py (start-up)
  input values     inputs.py (CardPresented, StaffCardPresented, CodeEntered: what the
                   readers produce, with their assurance)
  outside world    ports.py (LockDriver, Clock, CodeSource, StaffDirectory,
                   StaffCardIndex, SwipeParser),
                   system.py (the real clock and code source), secrets.py (keyring file)
  errors           errors.py (AppError tree, stable codes, categories)
  contract         event_schema.py (the MQTT event schema, generated from the events)
"""

from .api import CommandApi
from .commands import (
    COMMANDS,
    CancelRequest,
    CentralRequest,
    ExpectDropoffRequest,
    ExtendDeadlineRequest,
    InventoryRequest,
    RecallListRequest,
    RemoteOpenRequest,
    Request,
    ReserveRequest,
    SetServiceRequest,
    parse_command,
    parse_envelope,
)
from .errors import (
    AppError,
    Category,
    InvalidPayload,
    LayoutOrphansItems,
    NotCommissioned,
    SecretsError,
    SecretsInsecure,
    SecretsMalformed,
    SecretsMissing,
    StoredStateInvalid,
    UnknownCard,
    UnknownCommand,
)
from .inputs import CardPresented, CodeEntered, Presentation, StaffCardDigest, StaffCardPresented
from .kiosk import CitizenGate, Kiosk
from .layout_change import LayoutChange, reconcile_layout
from .operators import OperatorDesk
from .persistence import Plan, Restored, Saved, plan, restore
from .ports import (
    Clock,
    CodeSource,
    LockDriver,
    PulseOutcome,
    StaffCardIndex,
    StaffDirectory,
    SwipeParser,
)
from .presentations import (
    ArmedDropoff,
    DropoffService,
    KioskListener,
    KioskOutcome,
    Presentations,
    Source,
    log_reply,
)
from .queries import AuditLine, AuditQuery, OutboxFigures, outbox_figures, read_audit
from .replies import CODES, Done, JsonDict, Refusal, Reply, refusal
from .secrets import Keys, load_keys, load_table
from .service import (
    CentralContext,
    LockerService,
    Outcome,
    ServiceConfig,
    ServiceStatistics,
    Spawn,
)
from .system import TIMESYNCD_FLAG, SystemClock, SystemCodeSource
from .timer import DeadlineTimer

__all__ = [
    "CODES",
    "COMMANDS",
    "TIMESYNCD_FLAG",
    "AppError",
    "ArmedDropoff",
    "AuditLine",
    "AuditQuery",
    "CancelRequest",
    "CardPresented",
    "Category",
    "CentralContext",
    "CentralRequest",
    "CitizenGate",
    "Clock",
    "CodeEntered",
    "CodeSource",
    "CommandApi",
    "DeadlineTimer",
    "Done",
    "DropoffService",
    "ExpectDropoffRequest",
    "ExtendDeadlineRequest",
    "InvalidPayload",
    "InventoryRequest",
    "JsonDict",
    "Keys",
    "Kiosk",
    "KioskListener",
    "KioskOutcome",
    "LayoutChange",
    "LayoutOrphansItems",
    "LockDriver",
    "LockerService",
    "NotCommissioned",
    "OperatorDesk",
    "OutboxFigures",
    "Outcome",
    "Plan",
    "Presentation",
    "Presentations",
    "PulseOutcome",
    "RecallListRequest",
    "Refusal",
    "RemoteOpenRequest",
    "Reply",
    "Request",
    "ReserveRequest",
    "Restored",
    "Saved",
    "SecretsError",
    "SecretsInsecure",
    "SecretsMalformed",
    "SecretsMissing",
    "ServiceConfig",
    "ServiceStatistics",
    "SetServiceRequest",
    "Source",
    "Spawn",
    "StaffCardDigest",
    "StaffCardIndex",
    "StaffCardPresented",
    "StaffDirectory",
    "StoredStateInvalid",
    "SwipeParser",
    "SystemClock",
    "SystemCodeSource",
    "UnknownCard",
    "UnknownCommand",
    "load_keys",
    "load_table",
    "log_reply",
    "outbox_figures",
    "parse_command",
    "parse_envelope",
    "plan",
    "read_audit",
    "reconcile_layout",
    "refusal",
    "restore",
]
