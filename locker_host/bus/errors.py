"""The bus adapter's one exception tree.

    BusError                      every error this package raises has a `code`
    ├── BusConfigError            a configuration value is wrong; `field` names it
    ├── BusUsageError             the caller asked for something that cannot exist
    │                             (an unknown board, a channel out of range)
    └── PortError                 the serial device, with `path` and `errno`
        ├── PortUnavailable       it cannot be opened: absent, busy or denied
        └── PortLost              an open port failed: unplugged, hung up, I/O error

Bus *faults* (a timeout, a bad CRC, a reply from the wrong unit) are not
errors: they are `protocol.BusFault` values, counted in the statistics and
folded into board health. Port errors are raised by the transport and caught
by the bus owner, which reopens the port with back-off; they reach a caller
only through `BusStatistics.port`. Foreign exceptions (OSError,
serial.SerialException) are translated in exactly one place,
`transport._port_error`, by errno, never by message text (Open-Locker
ADR-0051: an adapter pulled for 30 s was never reconnected because errors
were classified by their wording).
"""

from __future__ import annotations


class BusError(Exception):
    code = "bus_error"


class BusConfigError(BusError, ValueError):
    code = "bus_config"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class BusUsageError(BusError, ValueError):
    code = "bus_usage"


class PortError(BusError):
    """`cause` is stable for machines: absent, busy, denied, io_error, hangup,
    stalled, other; `errno` is the OS's number when there was one."""

    code = "port_error"

    def __init__(self, path: str, cause: str, errno: int | None = None, detail: str = "") -> None:
        text = f"{path}: {cause}" + (f" (errno {errno})" if errno is not None else "")
        super().__init__(f"{text}: {detail}" if detail else text)
        self.path = path
        self.cause = cause
        self.errno = errno
        self.detail = detail


class PortUnavailable(PortError):
    """Opening failed: absent (ENOENT / ENODEV / ENXIO), busy (EBUSY, or
    EAGAIN from the exclusive lock), denied (EACCES / EPERM)."""

    code = "port_unavailable"


class PortLost(PortError):
    """An open port failed: io_error (EIO), absent (ENXIO / ENODEV), hangup
    (a read returned end of file), stalled (output would not drain). A USB
    adapter pulled out, or the simulator's `unplug`, looks like this."""

    code = "port_lost"
