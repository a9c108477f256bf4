"""`lockerd`: the composition root (DESIGN.md section 2: config -> adapters -> service).

The daemon owns no rule of its own: it reads `lockerd.toml`, builds the
adapters (one bus owner per RS-485 port, the card readers, the SQLite store
behind the service) and wires them to the application layer, then runs
until SIGTERM. It is also the home of the technician's tools that need the
hardware to itself (commissioning) and of the local admin socket.

Layout (one job per file):

    configuration  config.py (DaemonConfig, load_config) over config_fields.py
                   (typed keys, errors that name them), config_buses.py,
                   config_layout.py, config_readers.py, config_people.py,
                   config_policy.py; wiring.py (the wiring map's hash)
    between        translate.py (bus snapshots -> observations; the LockDriver
                   on the bus owners), staff.py (staff card digests -> clerks),
                   presentations.py (what a reading at a reader does)
    running        runtime.py (run_daemon), housekeeping.py, admin.py (the
                   socket), admin_commands.py (what it answers), logs.py
    commissioning  commissioning.py (the record and the citizen gate),
                   commission_walk.py, commission_scan.py, modbus_line.py
    command line   cli.py (main), cli_admin.py, cli_commission.py
"""

from .commissioning import CommissioningRecord, CommissioningStatus, CompartmentResult, status_of
from .config import DaemonConfig, load_config, parse_config
from .config_fields import ConfigError
from .runtime import run_daemon
from .translate import BusLockDriver, SnapshotTranslator
from .wiring import wiring_hash

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
