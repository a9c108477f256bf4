"""`lockerd.toml`: the daemon's configuration, read into the adapters' and the app's own values.

    document   DaemonConfig, load_config, parse_config: the whole file, and
               the keys that belong to no adapter ([paths], [log], [runtime])
    fields     Table: typed reading with key paths, unknown keys refused;
               ConfigError, which names the key
    buses      [[buses]], [[buses.boards]]
    layout     [[compartments]] and the wiring cross-checks
    readers    [[readers]]
    people     [[departments]], [[services]], [[staff]]
    policy     [policy], [timers], [housekeeping], [kiosk], [clock]
    mqtt       [mqtt] (and the secrets file's [mqtt] table)
    http       [http] (the HTTP API and pages)
    wiring     the wiring map's hash (what a commissioning walk proved)

docs/configuration.md is the reference of every key.
"""

from .document import DEFAULT_ADMIN_SOCKET, DaemonConfig, Paths, load_config, parse_config
from .fields import ConfigError
from .wiring import wiring_hash

__all__ = [
    "DEFAULT_ADMIN_SOCKET",
    "ConfigError",
    "DaemonConfig",
    "Paths",
    "load_config",
    "parse_config",
    "wiring_hash",
]
