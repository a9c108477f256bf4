"""Optional HMAC signatures on command payloads (a shared key per key id).

The signature covers the topic and the payload without its ``signature``
field, serialised canonically (keys sorted, no insignificant whitespace,
UTF-8, no escaping of non-ASCII: RFC 8785 for the strings, integers and
booleans this contract uses)::

    value = hex(HMAC-SHA256(key, topic + "\\n" + canonical(payload minus "signature")))
    payload["signature"] = {"key_id": "...", "hmac": value}

The topic binds the signature to one locker and one command, so a signed
``cancel`` cannot be replayed as an ``open`` or at another locker; the payload's
``command_id`` and ``expires_at`` bound its replay in time (a redelivery gets
the stored reply, a late one ``expired``).

When keys are configured, the commands in ``signed_commands`` (``open`` by
default) are refused without a valid signature (``signature_required``) and
any command with a bad one is refused (``signature_invalid``). Without keys,
a signature is ignored, so the centre can start signing before the lockers
check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_HEX64 = re.compile(r"[0-9a-f]{64}")


def canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def digest(key: bytes, topic: str, payload: Mapping[str, Any]) -> str:
    message = topic.encode() + b"\n" + canonical(payload)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(payload: Mapping[str, Any], *, topic: str, key_id: str, key: bytes) -> dict[str, Any]:
    """The payload with its ``signature`` (for the central side and lockerctl)."""
    body = {k: v for k, v in payload.items() if k != "signature"}
    return {**body, "signature": {"key_id": key_id, "hmac": digest(key, topic, body)}}


@dataclass(frozen=True)
class SignatureRefused:
    code: str  # signature_required | signature_invalid
    message: str


@dataclass(frozen=True)
class Verifier:
    keys: Mapping[str, bytes]
    required_for: frozenset[str]

    def check(self, name: str, topic: str, payload: Mapping[str, Any]) -> SignatureRefused | None:
        """None when the command may go on; ``payload`` still holds its signature here."""
        if not self.keys:
            return None
        signature = payload.get("signature")
        if signature is None:
            if name in self.required_for:
                return SignatureRefused(
                    "signature_required", f"'{name}' needs a signature on this locker"
                )
            return None
        if not isinstance(signature, Mapping) or set(signature) != {"key_id", "hmac"}:
            return SignatureRefused("signature_invalid", "signature must be {key_id, hmac}")
        key = self.keys.get(signature["key_id"]) if isinstance(signature["key_id"], str) else None
        value = signature["hmac"]
        if key is None:
            return SignatureRefused("signature_invalid", "unknown key_id")
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            return SignatureRefused("signature_invalid", "hmac must be 64 lowercase hex digits")
        body = {k: v for k, v in payload.items() if k != "signature"}
        try:
            expected = digest(key, topic, body)
        except (ValueError, RecursionError):  # NaN, infinity, absurd nesting: not canonical
            return SignatureRefused("signature_invalid", "payload is not canonical JSON")
        if not hmac.compare_digest(expected, value):
            return SignatureRefused("signature_invalid", "signature does not match")
        return None
