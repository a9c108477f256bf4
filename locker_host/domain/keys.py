"""Versioned HMAC secrets (owner keys, pickup and drop-off codes).

Secrets live in memory only (provisioned by the central system); the state
keeps the key *version* next to each digest so that a rotation never strands
an item: every accepted version is tried, the current one is used for new
digests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_MIN_SECRET_BYTES = 16


@dataclass(frozen=True)
class Keyring:
    secrets: Mapping[int, bytes]
    current: int

    def __post_init__(self) -> None:
        if self.current not in self.secrets:
            raise ValueError("the current key version has no secret")
        if any(len(secret) < _MIN_SECRET_BYTES for secret in self.secrets.values()):
            raise ValueError(f"secrets must be at least {_MIN_SECRET_BYTES} bytes")

    def versions(self) -> tuple[int, ...]:
        """The current version first, then the others that are still accepted."""
        return (self.current, *sorted(v for v in self.secrets if v != self.current))

    def __repr__(self) -> str:
        # Never print a secret, even in a traceback.
        return f"Keyring(versions={sorted(self.secrets)}, current={self.current})"
