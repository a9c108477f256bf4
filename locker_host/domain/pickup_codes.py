"""Pickup and drop-off codes: keyed digests, length rule, attempt limits.

A code is never stored: the state keeps ``HMAC-SHA256(secret, purpose:code)``
and the key version (a short code is as guessable from a plain hash as an ID
number is). The app digests what a person typed with every accepted key version
(``code_digests``) and the domain compares digests in constant time.

Guessing is bounded two ways (shared/notes/field-lessons.md: lockout after N
failures, rate limits per card and per locker):

* per locker and per time window: ``code_max_failures`` wrong codes within
  ``code_failure_window_s`` lock code entry at this locker for
  ``code_lockout_s``;
* per owner: a typed ID number with a wrong code counts against that owner too.

``required_code_length`` turns those limits into a minimum length: over
``code_horizon_s`` an attacker gets at most ``code_max_failures`` guesses per
lockout period, each hitting one of the ``alive`` codes with probability
``alive / 10**length``; the union bound must stay under
``code_max_guess_success``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from .errors import InvalidPickupCode
from .ids import OwnerKey
from .keys import Keyring
from .policy import LockerPolicy

_ABSOLUTE_MIN_LENGTH = 4
_ABSOLUTE_MAX_LENGTH = 16


class CodePurpose(StrEnum):
    PICKUP = "pickup"
    DROPOFF = "dropoff"


@dataclass(frozen=True)
class CodeDigest:
    digest: str
    key_version: int
    length: int

    def __repr__(self) -> str:
        return f"CodeDigest(v{self.key_version}, {self.digest[:8]}…, length={self.length})"


def code_digest(keyring: Keyring, purpose: CodePurpose, code: str, version: int) -> CodeDigest:
    if not (code.isascii() and code.isdigit()):
        raise InvalidPickupCode("a code is made of digits only")
    if not _ABSOLUTE_MIN_LENGTH <= len(code) <= _ABSOLUTE_MAX_LENGTH:
        raise InvalidPickupCode(
            "code length out of range", min=_ABSOLUTE_MIN_LENGTH, max=_ABSOLUTE_MAX_LENGTH
        )
    message = f"{purpose.value}:{code}".encode("ascii")
    digest = hmac.new(keyring.secrets[version], message, hashlib.sha256).hexdigest()
    return CodeDigest(digest, version, len(code))


def code_digests(keyring: Keyring, purpose: CodePurpose, code: str) -> tuple[CodeDigest, ...]:
    """What a typed code may match: one digest per accepted key version."""
    return tuple(code_digest(keyring, purpose, code, v) for v in keyring.versions())


def code_matches(stored: CodeDigest, presented: Iterable[CodeDigest]) -> bool:
    return any(
        p.key_version == stored.key_version and hmac.compare_digest(p.digest, stored.digest)
        for p in presented
    )


def guess_budget(policy: LockerPolicy) -> int:
    periods = math.ceil(policy.code_horizon_s / policy.code_lockout_s) + 1
    return policy.code_max_failures * periods


def required_code_length(alive: int, policy: LockerPolicy) -> int:
    exposure = max(alive, 1) * guess_budget(policy)
    length = policy.code_min_length
    while exposure > policy.code_max_guess_success * 10**length:
        length += 1
    return length


@dataclass(frozen=True)
class CodeGuard:
    """Recent failures and lockouts; times on the monotonic clock."""

    failures_mono_s: tuple[float, ...] = ()
    locked_until_mono_s: float | None = None
    # Per owner, the times of recent failures: pruned with the same window as
    # the locker-wide list, so nobody's failed attempt is remembered for ever.
    owner_failures: Mapping[OwnerKey, tuple[float, ...]] = field(default_factory=dict)
    owner_locked_until_mono_s: Mapping[OwnerKey, float] = field(default_factory=dict)


def locked_until(guard: CodeGuard, now_mono_s: float, owner: OwnerKey | None) -> float | None:
    until = [guard.locked_until_mono_s]
    if owner is not None:
        until.append(guard.owner_locked_until_mono_s.get(owner))
    active = [u for u in until if u is not None and u > now_mono_s]
    return max(active) if active else None


def record_failure(
    guard: CodeGuard, policy: LockerPolicy, now_mono_s: float, owner: OwnerKey | None
) -> CodeGuard:
    guard = prune(guard, policy, now_mono_s)  # keeps the state bounded
    failures = (*guard.failures_mono_s, now_mono_s)
    locked = guard.locked_until_mono_s
    if len(failures) >= policy.code_max_failures:
        locked, failures = now_mono_s + policy.code_lockout_s, ()
    owner_failures = dict(guard.owner_failures)
    owner_locked = dict(guard.owner_locked_until_mono_s)
    if owner is not None:
        owner_failures[owner] = (*owner_failures.get(owner, ()), now_mono_s)
        if len(owner_failures[owner]) >= policy.code_max_failures_per_owner:
            owner_locked[owner] = now_mono_s + policy.code_lockout_s
            del owner_failures[owner]
    return CodeGuard(failures, locked, owner_failures, owner_locked)


def record_success(guard: CodeGuard, owner: OwnerKey | None) -> CodeGuard:
    if owner is None or owner not in guard.owner_failures:
        return guard
    remaining = {k: v for k, v in guard.owner_failures.items() if k != owner}
    return replace(guard, owner_failures=remaining)


def prune(guard: CodeGuard, policy: LockerPolicy, now_mono_s: float) -> CodeGuard:
    horizon = now_mono_s - policy.code_failure_window_s
    locked = guard.locked_until_mono_s
    owner_failures = {
        owner: recent
        for owner, times in guard.owner_failures.items()
        if (recent := tuple(t for t in times if t > horizon))
    }
    return CodeGuard(
        tuple(t for t in guard.failures_mono_s if t > horizon),
        locked if locked is not None and locked > now_mono_s else None,
        owner_failures,
        {k: u for k, u in guard.owner_locked_until_mono_s.items() if u > now_mono_s},
    )


def rebase_after_restart(guard: CodeGuard, policy: LockerPolicy, now_mono_s: float) -> CodeGuard:
    """The monotonic clock restarted: old times mean nothing any more.

    A lockout that may still have been running is restarted in full (erring
    towards locked); recent failures count as if they had just happened.
    """
    return CodeGuard(
        tuple(now_mono_s for _ in guard.failures_mono_s),
        None if guard.locked_until_mono_s is None else now_mono_s + policy.code_lockout_s,
        {k: tuple(now_mono_s for _ in times) for k, times in guard.owner_failures.items()},
        {k: now_mono_s + policy.code_lockout_s for k in guard.owner_locked_until_mono_s},
    )
