"""Who is calling: bearer tokens with roles, and the kiosk's address rule.

A token is a long random string that only its holder knows; the
configuration keeps its SHA-256 digest (``lockerd hash-token``), and a
presented token is digested and compared with every configured digest in
constant time (no early exit: the time does not tell which entry matched).
Tokens are long and random, so a plain digest is enough (no slow KDF).

Roles (docs/http-api.md):

    kiosk        the kiosk endpoints, and the live state (``/state``, ``/stream``)
                 that the kiosk page draws its map from
    staff        read everything but board health and the CSV export; open with a
                 reason, recall list, acknowledge alarms
    technician   staff + out of / back in service, board health, audit CSV
    admin        everything

Kiosk endpoints also require the caller's address to be inside one of the
configured ``kiosk_from`` networks, whatever its role.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Role(StrEnum):
    KIOSK = "kiosk"
    STAFF = "staff"
    TECHNICIAN = "technician"
    ADMIN = "admin"


class Grant(StrEnum):
    """What an endpoint needs; ``GRANTS`` says which roles have it."""

    LIVE = "live"  # the snapshot and the stream
    READ = "read"  # compartments, items, alarms, audit
    STAFF = "staff"  # open with a reason, recall, acknowledge
    SERVICE = "service"  # out of / back in service
    BOARDS = "boards"  # board health
    EXPORT = "export"  # the audit CSV
    KIOSK = "kiosk"  # the kiosk endpoints


_ALL = frozenset(Role)
_STAFF = frozenset({Role.STAFF, Role.TECHNICIAN, Role.ADMIN})
_TECH = frozenset({Role.TECHNICIAN, Role.ADMIN})

GRANTS: dict[Grant, frozenset[Role]] = {
    Grant.LIVE: _ALL,
    Grant.READ: _STAFF,
    Grant.STAFF: _STAFF,
    Grant.SERVICE: _TECH,
    Grant.BOARDS: _TECH,
    Grant.EXPORT: _TECH,
    Grant.KIOSK: frozenset({Role.KIOSK, Role.ADMIN}),
}


@dataclass(frozen=True)
class ApiToken:
    name: str  # shown in the audit log as the actor (``http:<name>``)
    role: Role
    sha256: str  # hex digest of the token: ``token_digest(token)``
    has_sam: bool = False  # a kiosk whose own reader has an ID-card security module

    def __repr__(self) -> str:
        return f"ApiToken(name={self.name!r}, role={self.role.value!r})"


@dataclass(frozen=True)
class Caller:
    token: ApiToken
    presented: str  # the token itself, for the kiosk swipe's own check; never logged

    @property
    def operator(self) -> str:
        return f"http:{self.token.name}"

    def __repr__(self) -> str:
        return f"Caller({self.token!r})"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_token(tokens: Sequence[ApiToken], presented: str) -> ApiToken | None:
    digest = token_digest(presented)
    found = None
    for token in tokens:
        if hmac.compare_digest(digest, token.sha256.lower()):
            found = token
    return found


def address_allowed(host: str | None, networks: Sequence[Network]) -> bool:
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 on a dual-stack socket
    return any(address in network for network in networks)
