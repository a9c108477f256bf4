"""`lockerd.toml`: the daemon's configuration, parsed into the adapters' and the app's own values.

`load_config(path)` reads the file and `parse_config(data, base)` validates
it into a `DaemonConfig`: one `BusConfig` per bus, reader settings, the
`LockerConfig` (site, locker, layout, policy) the domain runs on, the
services offered at drop-off, the departments, the staff cards (digests),
file paths, housekeeping, logging and the event loop. Every problem raises `ConfigError`
naming the key path and what is wrong with it; the first one found wins.
docs/configuration.md is the reference of every key; examples/lockerd.toml
matches `locker-sim`'s default layout.

Relative paths are relative to the configuration file's directory. One
module per group of tables (the package's docstring lists them).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from locker_host.app import DropoffService
from locker_host.bus import BusConfig
from locker_host.domain import LockerConfig

from .buses import parse_buses
from .fields import ConfigError, Table
from .http import HttpSettings, parse_http
from .layout import parse_layout
from .mqtt import MqttSetting, parse_mqtt
from .people import (
    Department,
    StaffCard,
    parse_departments,
    parse_services,
    parse_staff,
)
from .policy import (
    ClockSettings,
    Housekeeping,
    KioskSettings,
    parse_clock,
    parse_housekeeping,
    parse_kiosk,
    parse_policy,
)
from .readers import ReaderSetting, parse_readers

EVENT_LOOPS = ("uvloop", "asyncio")
_SITE = r"[A-Za-z0-9_-]{1,64}"  # part of the MQTT topic root: no '/', '+' or '#'
LOG_LEVELS = ("debug", "info", "warning", "error")
DEFAULT_ADMIN_SOCKET = "/run/lockerd/admin.sock"


@dataclass(frozen=True)
class Paths:
    database: Path
    secrets: Path
    admin_socket: Path


@dataclass(frozen=True)
class DaemonConfig:
    source: Path | None  # the file it came from
    locker: LockerConfig
    buses: tuple[BusConfig, ...]
    readers: tuple[ReaderSetting, ...]
    departments: tuple[Department, ...]
    services: tuple[DropoffService, ...]
    staff: tuple[StaffCard, ...]
    paths: Paths
    log_level: str
    housekeeping: Housekeeping
    kiosk: KioskSettings
    clock: ClockSettings
    mqtt: MqttSetting | None = None  # None: no link to the central system
    http: HttpSettings | None = None  # None: no HTTP server
    event_loop: str = "uvloop"  # [runtime] event_loop: one of EVENT_LOOPS

    def service(self, name: str) -> DropoffService | None:
        return next((s for s in self.services if s.name == name), None)


def load_config(path: str | Path) -> DaemonConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"cannot read {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"{path} is not valid TOML: {exc}") from None
    return parse_config(data, path.resolve().parent, source=path)


def parse_config(
    data: Mapping[str, object], base: Path, *, source: Path | None = None
) -> DaemonConfig:
    root = Table(data, "")
    site = root.text("site", pattern=_SITE)
    locker_id = root.text("locker", pattern=_SITE)
    policy = parse_policy(root)
    buses = parse_buses(root, policy.pulse_ms)
    layout = parse_layout(root, buses)
    departments = parse_departments(root)
    config = DaemonConfig(
        source=source,
        locker=LockerConfig(site, locker_id, layout, policy),
        buses=buses,
        readers=parse_readers(root),
        departments=departments,
        services=parse_services(root, departments),
        staff=parse_staff(root, departments),
        paths=_paths(root.table("paths"), base),
        log_level=_log_level(root.table("log")),
        housekeeping=parse_housekeeping(root),
        kiosk=parse_kiosk(root),
        clock=parse_clock(root, base),
        mqtt=parse_mqtt(root, base),
        http=parse_http(root),
        event_loop=_event_loop(root.table("runtime")),
    )
    root.finish()
    return config


def _paths(t: Table, base: Path) -> Paths:
    paths = Paths(
        database=t.path("database", base),
        secrets=t.path("secrets", base),
        admin_socket=t.path("admin_socket", base, DEFAULT_ADMIN_SOCKET),
    )
    t.finish()
    return paths


def _event_loop(t: Table) -> str:
    loop = t.text("event_loop", "uvloop", choices=EVENT_LOOPS)
    t.finish()
    return loop


def _log_level(t: Table) -> str:
    level = t.text("level", "info", choices=LOG_LEVELS)
    t.finish()
    return level
