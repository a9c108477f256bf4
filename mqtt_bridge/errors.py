"""The bridge's own exceptions, each with a stable ``code``::

    BridgeError                 bridge_error
    ├── BridgeConfigError       bridge_config_invalid   refused at construction
    └── BridgeFailed            bridge_failed           run() ends with it: a paho callback
                                                        raised, or paho's network thread ended

A peer that misbehaves (a malformed command, an impossible ack) never raises:
it gets a reply or a log line and a statistic. ``BridgeFailed`` means a bug or
a dead network thread; the daemon's supervisor decides whether to start a new
bridge.
"""

from __future__ import annotations


class BridgeError(Exception):
    code = "bridge_error"


class BridgeConfigError(BridgeError):
    code = "bridge_config_invalid"


class BridgeFailed(BridgeError):
    code = "bridge_failed"
