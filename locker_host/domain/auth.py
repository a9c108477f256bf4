"""Who may open what: rules as tables and small pure predicates.

* A citizen opens only compartments holding their own collectable
  certificates. A strong ID card is enough; a weak (typed or scanned) ID number
  needs the pickup code too and then opens only items with that code; a code
  alone (a proxy) opens only items issued with that code.
* Staff act for their department and role (``STAFF_PURPOSES``): clerks and
  supervisors collect, load and recall their own department's items;
  technicians do maintenance opens; supervisors and technicians take
  compartments out of service and back.
"""

from __future__ import annotations

from typing import Final, assert_never

from .actors import Actor, CitizenActor, StaffActor
from .compartment import Compartment
from .credentials import (
    Assurance,
    CodeCredential,
    Credential,
    IdCredential,
    StaffCredential,
    StaffRole,
)
from .errors import NotAuthorised
from .ids import ItemId
from .items import Item, ItemKind, ItemStage
from .opens import Purpose
from .pickup_codes import CodePurpose, code_matches

STAFF_PURPOSES: Final[dict[StaffRole, frozenset[Purpose]]] = {
    StaffRole.CLERK: frozenset({Purpose.COLLECT, Purpose.LOAD, Purpose.RECALL}),
    StaffRole.SUPERVISOR: frozenset({Purpose.COLLECT, Purpose.LOAD, Purpose.RECALL}),
    StaffRole.TECHNICIAN: frozenset({Purpose.MAINTENANCE}),
}

SERVICE_ROLES: Final = frozenset({StaffRole.SUPERVISOR, StaffRole.TECHNICIAN})


def require_staff_purpose(staff: StaffCredential, purpose: Purpose) -> None:
    if purpose not in STAFF_PURPOSES[staff.role]:
        raise NotAuthorised(
            f"a {staff.role.value} may not open for {purpose.value}",
            role=staff.role.value,
            purpose=purpose.value,
        )


def require_service_role(staff: StaffCredential) -> None:
    if staff.role not in SERVICE_ROLES:
        raise NotAuthorised("only supervisors and technicians change service", role=staff.role)


def _for_staff(item: Item, staff: StaffCredential, purpose: Purpose) -> bool:
    if item.claim.department != staff.department:
        return False
    if purpose is Purpose.COLLECT:
        return item.kind is ItemKind.DOSSIER and item.inside
    if purpose is Purpose.LOAD:
        return item.kind is ItemKind.CERTIFICATE and item.stage is ItemStage.EXPECTED
    if purpose is Purpose.RECALL:
        return item.recallable
    return False


def staff_items(
    compartment: Compartment, staff: StaffCredential, purpose: Purpose
) -> tuple[ItemId, ...]:
    return tuple(i.item_id for i in compartment.items if _for_staff(i, staff, purpose))


def _for_citizen(item: Item, credential: IdCredential | CodeCredential) -> bool:
    if not item.collectable_by_owner:
        return False
    if isinstance(credential, CodeCredential):
        return item.pickup_code is not None and code_matches(item.pickup_code, credential.digests)
    if item.claim.owner not in credential.owners:
        return False
    if credential.assurance is Assurance.STRONG:
        return True
    # A typed ID number never opens alone (DESIGN.md section 3).
    return item.pickup_code is not None and code_matches(item.pickup_code, credential.pickup_code)


def citizen_items(
    compartment: Compartment, credential: IdCredential | CodeCredential
) -> tuple[ItemId, ...]:
    return tuple(i.item_id for i in compartment.items if _for_citizen(i, credential))


def actor_of(credential: Credential) -> Actor:
    match credential:
        case IdCredential():
            return CitizenActor(
                credential.primary, credential.assurance, with_code=bool(credential.pickup_code)
            )
        case CodeCredential():
            return CitizenActor(None, None, with_code=True)
        case StaffCredential():
            return StaffActor(credential.staff_id, credential.department, credential.role)
        case _:
            assert_never(credential)


def same_person(actor: Actor, credential: Credential) -> bool:
    """Whether ``credential`` may confirm by hand an open that ``actor`` started."""
    match actor, credential:
        case CitizenActor(owner=None), CodeCredential(
            purpose=CodePurpose.PICKUP | CodePurpose.DROPOFF
        ):
            return True
        case CitizenActor(owner=owner), IdCredential(owners=owners):
            return owner is not None and owner in owners
        case StaffActor(staff_id=staff_id), StaffCredential(staff_id=other):
            return staff_id == other
    return False
