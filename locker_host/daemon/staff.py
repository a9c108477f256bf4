"""The staff directory: staff card digests (from the configuration) to clerks.

Implements the app's `StaffDirectory` port for raw card numbers (the kiosk
and admin paths) by digesting them with the staff keyring, the same way the
card readers do (`staff_card_digests`), and the app's `StaffCardIndex` port
for readers that already digested (`staff_for_digests`). Every accepted key version is tried, so a
rotation of the staff secret does not lock staff out while the cards in the
configuration are re-hashed.
"""

from __future__ import annotations

from collections.abc import Iterable

from locker_host.domain import Keyring, StaffCredential
from locker_host.readers import StaffCardDigest, staff_card_digests

from .config.people import StaffCard


class StaffCards:
    def __init__(self, keyring: Keyring | None, cards: Iterable[StaffCard]) -> None:
        self._keyring = keyring
        self._by_digest = {(c.key_version, c.digest): c.staff for c in cards}

    def __len__(self) -> int:
        return len(self._by_digest)

    def staff_for_card(self, card_id: str) -> StaffCredential | None:
        if self._keyring is None or not card_id.strip():
            return None
        return self.staff_for_digests(staff_card_digests(self._keyring, card_id))

    def staff_for_digests(self, digests: Iterable[StaffCardDigest]) -> StaffCredential | None:
        for digest in digests:
            staff = self._by_digest.get((digest.key_version, digest.digest))
            if staff is not None:
                return staff
        return None
