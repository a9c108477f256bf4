"""Audit records: every attempt, granted or denied, and every unlock.

Field lessons #17 (Open-Locker #249): the audit log must include denied and
failed attempts, not just successes. Every ``PulseLock`` effect has a granted
record with the same ``open_id`` in the same decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from .actors import Actor
from .ids import CompartmentId, OpenId


@dataclass(frozen=True)
class AuditRecord:
    at_wall_s: float
    clock_trusted: bool
    actor: Actor
    action: str  # the command or observation, e.g. "pickup", "remote_open", "door_forced"
    granted: bool
    compartment: CompartmentId | None = None
    open_id: OpenId | None = None
    refusal_code: str | None = None
    detail: str = ""
