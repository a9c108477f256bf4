"""`[[departments]]`, `[[services]]` offered at drop-off, and `[[staff]]` cards.

Staff cards are stored as digests, never as card numbers:
HMAC-SHA256(staff secret, "staff:" + normalised card number), the digest the
card readers compute (`locker_host.readers.staff_card_digests`), with the
version of the staff secret it was made with. `lockerd hash-card` prints
the line to paste here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from locker_host.app import DropoffService
from locker_host.domain import DepartmentId, Size, StaffCredential, StaffId, StaffRole

from .fields import ConfigError, Table, unique

LANGUAGES = ("zh", "en")
_ID = r"[A-Za-z0-9_.-]{1,64}"
_HEX64 = r"[0-9a-f]{64}"


@dataclass(frozen=True)
class Department:
    id: DepartmentId
    labels: Mapping[str, str]


@dataclass(frozen=True)
class StaffCard:
    digest: str  # hex HMAC-SHA256, lower case
    key_version: int
    staff: StaffCredential


def parse_departments(root: Table) -> tuple[Department, ...]:
    departments = []
    for t in root.tables("departments"):
        department = Department(DepartmentId(t.text("id", pattern=_ID)), _labels(t))
        t.finish()
        departments.append(department)
    unique([d.id for d in departments], "departments", "id")
    return tuple(departments)


def parse_services(root: Table, departments: tuple[Department, ...]) -> tuple[DropoffService, ...]:
    services = []
    for t in root.tables("services"):
        name = t.text("name", pattern=_ID)
        department = _department(t, departments)
        size = Size(t.text("size", choices=("S", "M", "L")))
        services.append(DropoffService(name, department, size, _labels(t)))
        t.finish()
    unique([s.name for s in services], "services", "name")
    return tuple(services)


def parse_staff(root: Table, departments: tuple[Department, ...]) -> tuple[StaffCard, ...]:
    cards = []
    for t in root.tables("staff"):
        digest = t.text("card_digest", pattern=_HEX64)
        key_version = t.integer("key_version", 1, lo=0, hi=1_000_000)
        staff_id = StaffId(t.text("staff_id", pattern=_ID))
        department = _department(t, departments)
        role = StaffRole(t.text("role", choices=tuple(r.value for r in StaffRole)))
        t.finish()
        cards.append(StaffCard(digest, key_version, StaffCredential(staff_id, department, role)))
    unique([f"v{c.key_version}:{c.digest}" for c in cards], "staff", "card_digest")
    unique([c.staff.staff_id for c in cards], "staff", "staff_id")
    return tuple(cards)


def _department(t: Table, departments: tuple[Department, ...]) -> DepartmentId:
    name = t.text("department", pattern=_ID)
    if name not in {d.id for d in departments}:
        known = ", ".join(d.id for d in departments) or "none configured"
        raise ConfigError(t.where("department"), f"{name!r} is not a [[departments]] id ({known})")
    return DepartmentId(name)


def _labels(t: Table) -> dict[str, str]:
    labels = t.table("labels")
    found = {lang: labels.text(lang) for lang in LANGUAGES}
    labels.finish()
    return found
