"""What the bridge needs from the locker: one small port, implemented by the daemon.

The bridge is an adapter: it never imports the store or another adapter. The
daemon wraps ``CommandApi`` and ``LockerService`` into a ``LockerPort``; the
outbox rows it returns (the store's ``OutboxEvent``, ``OutboxStatistics``) fit
the two read-only protocols below as they are.

The port is the bridge's whole contract with the app: the bridge imports no
module of the app's. ``handle_command`` never raises for anything the sender
did wrong (its replies are ``{"ok": ...}`` dicts, serialised by the daemon);
the bridge's own commands (``ping``, ``republish``, ``replay``) read their
envelope and judge its expiry through the port too (``read_envelope``,
``expired``), so a field is named and a stale command refused exactly as the
app does (on a trusted clock only). ``ack_events`` raises for an ack that cannot be
applied (an exception with a ``code`` attribute, e.g. the store's
``outbox_ack_beyond_head``), which the bridge logs and counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

JsonDict = dict[str, Any]


class PendingEvent(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def event_id(self) -> str: ...
    @property
    def boot_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


class OutboxStats(Protocol):
    @property
    def head_seq(self) -> int: ...
    @property
    def acked_seq(self) -> int: ...
    @property
    def pending(self) -> int: ...
    @property
    def oldest_pending_at(self) -> datetime | None: ...
    @property
    def dropped_total(self) -> int: ...


class Envelope(Protocol):
    """A command's ``command_id`` and ``expires_at``, as the app read them."""

    @property
    def command_id(self) -> str: ...
    @property
    def expires_at_wall_s(self) -> float: ...


class LockerPort(Protocol):
    def command_names(self) -> Sequence[str]:
        """The app's commands (``cmd/{name}``); the bridge answers its own besides."""
        ...

    def read_envelope(self, payload: Mapping[str, Any]) -> Envelope | JsonDict:
        """The envelope (``command_id``, ``expires_at``, ``operator``, nothing else), or
        the refusal naming the field."""
        ...

    def expired(self, expires_at_wall_s: float) -> JsonDict | None:
        """The service's rule: the refusal of a command stale on a trusted clock, else None."""
        ...

    async def handle_command(self, name: str, payload: object) -> JsonDict:
        """``CommandApi.handle``: dedup by command_id, expiry, ``invalid`` naming the field."""
        ...

    async def snapshot(self) -> JsonDict:
        """``LockerService.snapshot()``: compartments, boards, boot_id; no personal data."""
        ...

    async def pending_events(self, *, after_seq: int, limit: int) -> Sequence[PendingEvent]:
        """Unacknowledged events with seq > after_seq, oldest first."""
        ...

    async def ack_events(self, *, boot_id: str, seq: int) -> int:
        """Cumulative ack through ``seq``; returns how many events left the outbox."""
        ...

    async def outbox_stats(self) -> OutboxStats: ...

    async def known_boot(self, boot_id: str) -> bool:
        """Whether ``boot_id`` is one of this locker's starts (its store's ``boots``): a
        ``status`` under its own topic from any other is a second locker using its id."""
        ...
