"""`lockerd`: the composition root (DESIGN.md section 2: config -> adapters -> service).

The daemon owns no rule of its own: it reads `lockerd.toml`, builds the
adapters (one bus owner per RS-485 port, the card readers, the SQLite store
behind the service) and wires them to the application layer, then runs
until SIGTERM. It is also the home of the technician's tools that need the
hardware to itself (commissioning) and of the local admin socket.

Layout (one job per file; the two subsystems in their own packages):

    config/        lockerd.toml -> DaemonConfig (config/__init__.py lists the
                   modules: one per group of tables, ConfigError, the wiring hash)
    commission/    proving the wiring map: the record and the citizen gate,
                   the walk, scan and set-address, `lockerd commission`
    between        translate.py (bus snapshots -> observations; the LockDriver
                   on the bus owners), staff.py (staff card digests -> clerks),
                   kiosk.py (the app's Presentations wired to the configuration,
                   the kiosk app's swipe parser, the reader pump)
    running        runtime.py (run_daemon), housekeeping.py, receipts.py,
                   mqtt_link.py, http.py, admin.py (the socket),
                   admin_commands.py (what it answers), instance.py, logs.py
    command line   cli.py (main), cli_admin.py

The demo (`lockerd demo`) is not part of this package: it lives in the
top-level `demo` package, beside the simulator it drives, and cli.py imports
it only when asked for it, so that `lockerd run` never loads the simulator.
"""

from .commission import CommissioningRecord, CommissioningStatus, CompartmentResult, status_of
from .config import ConfigError, DaemonConfig, load_config, parse_config, wiring_hash
from .runtime import run_daemon
from .translate import BusLockDriver, SnapshotTranslator

__all__ = [
    "BusLockDriver",
    "CommissioningRecord",
    "CommissioningStatus",
    "CompartmentResult",
    "ConfigError",
    "DaemonConfig",
    "SnapshotTranslator",
    "load_config",
    "parse_config",
    "run_daemon",
    "status_of",
    "wiring_hash",
]
