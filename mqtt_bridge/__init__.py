"""The MQTT adapter: the locker's link to the central system (DESIGN.md section 5).

The contract is docs/asyncapi/lockers.asyncapi.json with its JSON Schemas;
deploy/mosquitto holds a sample broker configuration with per-locker
credentials and ACLs. ``lockerctl`` (``ctl/``) is the tool for central-system
developers and testers.

Layout, like Trio's: small modules, one job each, re-exported here.

  the bridge   bridge.py (MqttBridge: run, stop, wake, statistics)
  its parts    link.py (paho in its thread, guarded callbacks, MQTT 5 or 3.1.1),
               events.py (outbox -> events, acks, re-sends),
               state.py (retained status / state / boards, outbox alarms),
               commands.py (replies, ping / republish / replay, events/ack)
  pure         reconnect.py (which broker next, jittered back-off, the takeover
               watch), topics.py, messages.py (payloads), inbound.py (a command's
               envelope), control.py (the bridge's own commands), signing.py (HMAC)
  the edges    port.py (LockerPort: what the daemon provides), config.py,
               errors.py, statistics.py, context.py (what the parts share),
               waiting.py (a cancel-safe wait with a timeout)
"""

from .bridge import CLIENT_ID_CONFLICT, MqttBridge
from .config import PROTOCOLS, BridgeConfig, MqttProtocol, TlsFiles
from .control import CONTROL_COMMANDS
from .errors import BridgeConfigError, BridgeError, BridgeFailed
from .port import JsonDict, LockerPort, OutboxStats, PendingEvent
from .reconnect import Broker
from .signing import sign
from .statistics import BridgeStatistics
from .topics import DEFAULT_PREFIX, LockerTopic, Topics, parse_locker_topic

__all__ = [
    "CLIENT_ID_CONFLICT",
    "CONTROL_COMMANDS",
    "DEFAULT_PREFIX",
    "PROTOCOLS",
    "BridgeConfig",
    "BridgeConfigError",
    "BridgeError",
    "BridgeFailed",
    "BridgeStatistics",
    "Broker",
    "JsonDict",
    "LockerPort",
    "LockerTopic",
    "MqttBridge",
    "MqttProtocol",
    "OutboxStats",
    "PendingEvent",
    "TlsFiles",
    "Topics",
    "parse_locker_topic",
    "sign",
]
