"""What the bridge has done so far, for metrics and health (Trio's ``statistics()``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BridgeStatistics:
    connected: bool = False
    broker: str | None = None  # host:port of the last connection
    connects: int = 0
    disconnects: int = 0
    connect_failures: int = 0
    commands_received: int = 0
    commands_refused: int = 0  # answered {"ok": false}: invalid, expired, unknown, refused
    commands_dropped: int = 0  # more arrived than the queue holds (QoS 0 floods)
    replies_published: int = 0
    events_published: int = 0  # including re-sends
    events_acked: int = 0  # left the outbox on a central ack
    acks_refused: int = 0
    resend_passes: int = 0  # passes from the oldest pending event: connects, replays, stalls
    stall_resends: int = 0  # of those, because acks had not moved (the wait doubles each)
    publishes_refused: int = 0  # the broker answered a PUBACK with a failure (ACL)
    port_errors: int = 0
    callback_errors: int = 0
    takeovers: int = 0  # connections ended by the broker as if the client id were taken
    outbox_head_seq: int = 0
    outbox_acked_seq: int = 0
    outbox_pending: int = 0
    outbox_oldest_age_s: float | None = None
    outbox_dropped_total: int = 0
    alarms: tuple[str, ...] = ()  # the outbox's; and client_id_conflict (the link's)
    last_error: str | None = field(default=None)
