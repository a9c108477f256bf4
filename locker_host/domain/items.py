"""What sits in a compartment, and whom it is promised to.

A compartment holds the items of one *claim* at a time: one department and, for
certificates, one owner (several certificates for one citizen from one
department may share it). A dossier is dropped off by a citizen (its owner)
*for* a department; a certificate is loaded by a department for its owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .identity import OwnerRef
from .ids import ApplicationNumber, DepartmentId, ItemId
from .pickup_codes import CodeDigest


class ItemKind(StrEnum):
    """A dossier (dropped off for a department) or a certificate (loaded for a citizen)."""

    DOSSIER = "dossier"
    CERTIFICATE = "certificate"


class ItemStage(StrEnum):
    """Where an item is in its life."""

    EXPECTED = "expected"  # certificate reserved, not loaded yet: not physically inside
    HELD = "held"  # inside; a certificate is collectable, a dossier awaits staff
    OVERDUE = "overdue"  # deadline passed; still collectable until staff recall it
    CANCELLED = "cancelled"  # central withdrew a loaded certificate: staff recall only


@dataclass(frozen=True)
class Claim:
    department: DepartmentId
    owner: OwnerRef | None


@dataclass(frozen=True)
class Item:
    item_id: ItemId
    kind: ItemKind
    claim: Claim
    stage: ItemStage
    # Pickup deadline (certificate) or collection SLA (dossier), wall-clock epoch seconds.
    # None while unknown: a dossier deposited while the clock was untrusted.
    deadline_wall_s: float | None = None
    reminders_sent: int = 0
    pickup_code: CodeDigest | None = None
    # False when a degraded compartment recorded the item by default, unseen.
    confirmed: bool = True
    application: ApplicationNumber | None = None

    @property
    def inside(self) -> bool:
        return self.stage is not ItemStage.EXPECTED

    @property
    def collectable_by_owner(self) -> bool:
        return self.kind is ItemKind.CERTIFICATE and self.stage in (
            ItemStage.HELD,
            ItemStage.OVERDUE,
        )

    @property
    def recallable(self) -> bool:
        return self.kind is ItemKind.CERTIFICATE and self.stage in (
            ItemStage.OVERDUE,
            ItemStage.CANCELLED,
        )
