"""`lockerd commission`: proving the wiring map before citizens are served.

    record   CommissioningRecord, status_of: what the walks proved, and the
             gate that holds citizen flows until the configured map is proved
    walk     Walker: pulse each door and check that its sensors, and only its
             sensors, react
    scan     scan and set-address over the bus's DirectLine
    cli      `lockerd commission scan | set-address | walk | status`

Everything but `record` runs while the daemon is stopped: it needs the serial
ports (and the database) to itself.
"""

from .record import (
    CommissioningRecord,
    CommissioningStatus,
    CompartmentResult,
    load_record,
    status_of,
)

__all__ = [
    "CommissioningRecord",
    "CommissioningStatus",
    "CompartmentResult",
    "load_record",
    "status_of",
]
