"""The bridge's settings: one frozen value, checked once when it is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

from .errors import BridgeConfigError
from .reconnect import Broker
from .topics import DEFAULT_PREFIX, check_level

# The MQTT versions the link speaks (docs/asyncapi: what each one gives up).
MqttProtocol = Literal["5", "3.1.1"]
PROTOCOLS: tuple[MqttProtocol, ...] = get_args(MqttProtocol)


@dataclass(frozen=True)
class TlsFiles:
    """Server CA (always), and the client's certificate and key for mutual TLS."""

    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None


@dataclass(frozen=True, kw_only=True)
class BridgeConfig:
    site: str
    locker: str
    host: str = "localhost"
    port: int = 1883
    # Tried in turn after host:port when it cannot be reached (reconnect.py).
    failover: tuple[Broker, ...] = ()
    protocol: MqttProtocol = "5"
    client_id: str | None = None  # default "locker-{site}-{locker}": one session per locker
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: TlsFiles | None = None
    keepalive_s: int = 30
    # The broker keeps the session (subscriptions, queued QoS 1 commands) this
    # long while the locker is away (MQTT 5 only: in 3.1.1 the broker decides).
    # Commands carry their own expiry as well.
    session_expiry_s: int = 3_600
    reconnect_min_s: int = 1
    reconnect_max_s: int = 60
    # The takeover watch (reconnect.py): the wait between attempts while another
    # client uses our client id.
    takeover_backoff_s: int = 300
    # Without a wake() from the daemon, the outbox and the state are looked at this often.
    poll_interval_s: float = 0.5
    events_batch: int = 100  # read from the outbox at a time
    events_in_flight: int = 100  # published and not yet PUBACKed
    # Published beyond the central system's last ack. The broker queues events for an
    # offline or slow consumer only up to its max_queued_messages (Mosquitto: 1000 by
    # default) and drops the rest; staying within it spares the consumer a replay.
    events_ahead_of_ack: int = 1_000
    # Pending events whose ack has not moved for this long are sent again (None: only
    # after a reconnect or on `replay`).
    resend_unacked_after_s: float | None = 120.0
    # A resend of our own (after a reconnect, or when acks stall) goes at most this far
    # beyond the central system's last ack until it has caught up with what was sent
    # before (events.py says why); new events and a `replay` use events_ahead_of_ack.
    resend_window: int = 10
    max_command_bytes: int = 16_384
    reply_expiry_s: int = 3_600  # MQTT 5 message expiry on replies
    # Shared HMAC keys by key id; empty: signatures are not checked.
    command_keys: Mapping[str, bytes] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )
    signed_commands: frozenset[str] = frozenset({"open"})  # need a signature when keys are set
    outbox_alarm_pending: int = 10_000
    outbox_alarm_age_s: float = 86_400.0
    software: str | None = None  # default: the installed package's version
    topic_prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        for name in ("site", "locker"):
            problem = check_level(getattr(self, name))
            if problem:
                raise BridgeConfigError(f"{name}: {problem}")
        positive = {
            "port": self.port,
            "keepalive_s": self.keepalive_s,
            "reconnect_min_s": self.reconnect_min_s,
            "events_batch": self.events_batch,
            "events_in_flight": self.events_in_flight,
            "events_ahead_of_ack": self.events_ahead_of_ack,
            "resend_window": self.resend_window,
            "max_command_bytes": self.max_command_bytes,
            "poll_interval_s": self.poll_interval_s,
            "takeover_backoff_s": self.takeover_backoff_s,
        }
        for name, value in positive.items():
            if value <= 0:
                raise BridgeConfigError(f"{name} must be positive")
        if self.protocol not in PROTOCOLS:
            raise BridgeConfigError(f"protocol must be one of {', '.join(PROTOCOLS)}")
        for broker in self.failover:
            if not broker.host or not 0 < broker.port < 65_536:
                raise BridgeConfigError(f"failover: {broker} is not a host and port")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise BridgeConfigError("reconnect_max_s must be at least reconnect_min_s")
        if self.session_expiry_s < 1:
            # Zero would end the session at disconnect: commands sent meanwhile are lost.
            raise BridgeConfigError("session_expiry_s must be at least 1 (a persistent session)")
        if (self.username is None) != (self.password is None):
            raise BridgeConfigError("username and password go together")
        if self.tls is not None and (self.tls.cert_file is None) != (self.tls.key_file is None):
            raise BridgeConfigError("tls: cert_file and key_file go together")
        if any(not key for key in self.command_keys.values()):
            raise BridgeConfigError("command_keys: a key must not be empty")

    @property
    def brokers(self) -> tuple[Broker, ...]:
        return (Broker(self.host, self.port), *self.failover)

    @property
    def mqtt5(self) -> bool:
        return self.protocol == "5"

    @property
    def mqtt_client_id(self) -> str:
        return self.client_id or f"locker-{self.site}-{self.locker}"
