"""`[mqtt]`: the link to the central system (absent: the locker runs without it).

The configuration file holds where the broker is and how the link behaves;
the secrets file holds what must not be in it (the password, the shared keys
that sign remote commands), in its own `[mqtt]` table:

    [mqtt]                          # in the secrets file (mode 0600)
    password = "..."
    command_keys = { central-1 = "hex, at least 16 bytes" }

`MqttSetting` is what the configuration file says; `bridge_config` adds the
secrets and builds the bridge's `BridgeConfig`, whose own checks come back as
`ConfigError`s naming the key as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from locker_host.app import COMMANDS as APP_COMMANDS
from mqtt_bridge import (
    CONTROL_COMMANDS,
    PROTOCOLS,
    BridgeConfig,
    BridgeConfigError,
    Broker,
    MqttProtocol,
    TlsFiles,
)

from .fields import ConfigError, Table

# Every cmd/{name}: the app's table and the bridge's own commands.
COMMANDS = (*APP_COMMANDS, *sorted(CONTROL_COMMANDS))
_PREFIX = r"[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_-]{1,64})*"  # topic levels, no wildcards
_BROKER = r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]+)):(?P<port>[0-9]{1,5})"
_DAY = 86_400.0
_MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class MqttSetting:
    brokers: tuple[Broker, ...]  # tried in turn (mqtt_bridge/reconnect.py)
    protocol: MqttProtocol
    client_id: str | None
    username: str | None
    tls: TlsFiles | None
    keepalive_s: int
    session_expiry_s: int
    reconnect_min_s: int
    reconnect_max_s: int
    takeover_backoff_s: int
    resend_unacked_after_s: float | None
    resend_window: int
    events_ahead_of_ack: int
    max_command_bytes: int
    signed_commands: frozenset[str]
    outbox_alarm_pending: int
    outbox_alarm_age_s: float
    topic_prefix: str


def parse_mqtt(root: Table, base: Path) -> MqttSetting | None:
    if not root.has("mqtt"):
        root.table("mqtt")  # marks the key as read
        return None
    t = root.table("mqtt")
    t.table("tls")  # read, so that finish() accepts it when present
    d = BridgeConfig(site="x", locker="x")  # the bridge's defaults
    reconnect_min = t.integer("reconnect_min_s", d.reconnect_min_s, lo=1, hi=3_600)
    resend = t.number("resend_unacked_after_s", d.resend_unacked_after_s or 0.0, lo=0.0, hi=_DAY)
    signed = t.strings("signed_commands", tuple(sorted(d.signed_commands)))
    for i, name in enumerate(signed):
        if name not in COMMANDS:
            raise ConfigError(
                f"{t.where('signed_commands')}[{i}]",
                f"{name!r} is not a command ({', '.join(COMMANDS)})",
            )
    protocol = _protocol(t.text("protocol", d.protocol, choices=PROTOCOLS))
    if protocol == "3.1.1" and t.has("session_expiry_s"):
        raise ConfigError(
            t.where("session_expiry_s"),
            "MQTT 3.1.1 has no session expiry (the broker decides how long it keeps sessions)",
        )
    setting = MqttSetting(
        brokers=_brokers(t, d.port),
        protocol=protocol,
        client_id=t.optional_text("client_id", pattern=r"[A-Za-z0-9_.:-]{1,128}"),
        username=t.optional_text("username"),
        tls=_tls(t.table("tls"), base) if t.has("tls") else None,
        keepalive_s=t.integer("keepalive_s", d.keepalive_s, lo=5, hi=3_600),
        session_expiry_s=t.integer("session_expiry_s", d.session_expiry_s, lo=1, hi=30 * 86_400),
        reconnect_min_s=reconnect_min,
        reconnect_max_s=t.integer("reconnect_max_s", d.reconnect_max_s, lo=reconnect_min, hi=3_600),
        takeover_backoff_s=t.integer(
            "takeover_backoff_s", d.takeover_backoff_s, lo=reconnect_min, hi=86_400
        ),
        resend_unacked_after_s=resend or None,
        resend_window=t.integer("resend_window", d.resend_window, lo=1, hi=100_000),
        events_ahead_of_ack=t.integer(
            "events_ahead_of_ack", d.events_ahead_of_ack, lo=1, hi=100_000
        ),
        max_command_bytes=t.integer(
            "max_command_bytes", d.max_command_bytes, lo=1_024, hi=1_048_576
        ),
        signed_commands=frozenset(signed),
        outbox_alarm_pending=t.integer(
            "outbox_alarm_pending", d.outbox_alarm_pending, lo=1, hi=10_000_000
        ),
        outbox_alarm_age_s=t.positive("outbox_alarm_age_s", d.outbox_alarm_age_s, hi=365 * _DAY),
        topic_prefix=t.text("topic_prefix", d.topic_prefix, pattern=_PREFIX),
    )
    t.finish()
    return setting


def _protocol(name: str) -> MqttProtocol:
    for protocol in PROTOCOLS:  # narrowed for the type checker; text() checked the choice
        if protocol == name:
            return protocol
    raise AssertionError(name)


def _brokers(t: Table, default_port: int) -> tuple[Broker, ...]:
    """`brokers = ["host:port", ...]`, or `host` and `port`: one broker."""
    if not t.has("brokers"):
        host = t.text("host", "127.0.0.1")
        return (Broker(host, t.integer("port", default_port, lo=1, hi=65_535)),)
    for single in ("host", "port"):
        if t.has(single):
            raise ConfigError(t.where(single), "give either brokers or host and port")
    listed = t.strings("brokers")
    if not listed:
        raise ConfigError(t.where("brokers"), "must name at least one broker")
    brokers = []
    for i, text in enumerate(listed):
        where = f"{t.where('brokers')}[{i}]"
        match = re.fullmatch(_BROKER, text)
        if match is None:
            raise ConfigError(where, f"{text!r} is not host:port (an IPv6 address in [])")
        port = int(match["port"])
        if not 1 <= port <= 65_535:
            raise ConfigError(where, f"port {port} is outside 1..65535")
        broker = Broker(match["ip6"] or match["host"], port)
        if broker in brokers:
            raise ConfigError(where, f"{text!r} is already listed")
        brokers.append(broker)
    return tuple(brokers)


def _tls(t: Table, base: Path) -> TlsFiles:
    ca = t.path("ca_file", base)
    cert = t.path("cert_file", base) if t.has("cert_file") else None
    key = t.path("key_file", base) if t.has("key_file") else None
    if (cert is None) != (key is None):
        missing = "cert_file" if cert is None else "key_file"
        raise ConfigError(t.where(missing), "cert_file and key_file go together")
    t.finish()
    return TlsFiles(ca, cert, key)


@dataclass(frozen=True)
class MqttSecrets:
    password: str | None = None
    command_keys: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))


def parse_mqtt_secrets(table: Mapping[str, Any] | None) -> MqttSecrets:
    """The secrets file's `[mqtt]` table (None: the file has none)."""
    if table is None:
        return MqttSecrets()
    t = Table(table, "secrets:mqtt")
    password = t.optional_text("password")
    raw = t.table("command_keys")
    keys: dict[str, bytes] = {}
    for key_id in list(table.get("command_keys", {})):
        if not isinstance(key_id, str) or not key_id or len(key_id) > 64:
            raise ConfigError(raw.where(str(key_id)), "a key id is 1 to 64 characters")
        text = raw.text(key_id, pattern=r"([0-9a-fA-F]{2})+")
        secret = bytes.fromhex(text)
        if len(secret) < _MIN_KEY_BYTES:
            raise ConfigError(raw.where(key_id), f"a key has at least {_MIN_KEY_BYTES} bytes")
        keys[key_id] = secret
    raw.finish()
    t.finish()
    return MqttSecrets(password, MappingProxyType(keys))


def bridge_config(
    setting: MqttSetting, secrets: MqttSecrets, *, site: str, locker: str
) -> BridgeConfig:
    if setting.username is not None and secrets.password is None:
        raise ConfigError("mqtt.username", "needs password in the secrets file's [mqtt] table")
    if setting.username is None and secrets.password is not None:
        raise ConfigError("secrets:mqtt.password", "a password needs mqtt.username")
    if setting.tls is not None:
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(setting.tls, name)
            if path is not None and not path.is_file():
                raise ConfigError(f"mqtt.tls.{name}", f"no file at {path}")
    try:
        return BridgeConfig(
            site=site,
            locker=locker,
            host=setting.brokers[0].host,
            port=setting.brokers[0].port,
            failover=setting.brokers[1:],
            protocol=setting.protocol,
            client_id=setting.client_id,
            username=setting.username,
            password=secrets.password,
            tls=setting.tls,
            keepalive_s=setting.keepalive_s,
            session_expiry_s=setting.session_expiry_s,
            reconnect_min_s=setting.reconnect_min_s,
            reconnect_max_s=setting.reconnect_max_s,
            takeover_backoff_s=setting.takeover_backoff_s,
            resend_unacked_after_s=setting.resend_unacked_after_s,
            resend_window=setting.resend_window,
            events_ahead_of_ack=setting.events_ahead_of_ack,
            max_command_bytes=setting.max_command_bytes,
            command_keys=secrets.command_keys,
            signed_commands=setting.signed_commands,
            outbox_alarm_pending=setting.outbox_alarm_pending,
            outbox_alarm_age_s=setting.outbox_alarm_age_s,
            topic_prefix=setting.topic_prefix,
        )
    except BridgeConfigError as exc:
        raise ConfigError("mqtt", str(exc)) from None
