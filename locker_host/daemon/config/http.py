"""`[http]`: the local HTTP API and pages (locker_host/api); absent = no HTTP server.

    [http]
    bind = "127.0.0.1"                          # an IP address; loopback by default
    port = 8080                                 # 0: any free port (tests)
    kiosk_from = ["127.0.0.1/32", "::1/128"]    # kiosk endpoints only from these
    [[http.tokens]]
    name = "kiosk-front"                        # the actor in the audit log: http:kiosk-front
    role = "kiosk"                              # kiosk | staff | technician | admin
    sha256 = "<64 hex>"                         # `lockerd hash-token` prints it
    has_sam = false                             # kiosk only: its reader has a SAM module

Tokens are stored as SHA-256 digests, never in clear: whoever reads the file
cannot call the API with what they read.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from locker_host.api import ApiToken, Network, Role

from .fields import ConfigError, Table, unique

DEFAULT_BIND = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_KIOSK_FROM = ("127.0.0.1/32", "::1/128")
_NAME = r"[A-Za-z0-9_.-]{1,64}"
_HEX64 = r"[0-9a-fA-F]{64}"


@dataclass(frozen=True)
class HttpSettings:
    bind: str
    port: int
    kiosk_from: tuple[Network, ...]
    tokens: tuple[ApiToken, ...]


def parse_http(root: Table) -> HttpSettings | None:
    if not root.has("http"):
        return None
    t = root.table("http")
    bind = t.text("bind", DEFAULT_BIND)
    try:
        ipaddress.ip_address(bind)
    except ValueError:
        raise ConfigError(t.where("bind"), f"{bind!r} is not an IP address") from None
    port = t.integer("port", DEFAULT_PORT, lo=0, hi=65_535)
    networks = []
    for i, text in enumerate(t.strings("kiosk_from", DEFAULT_KIOSK_FROM)):
        try:
            networks.append(ipaddress.ip_network(text, strict=True))
        except ValueError as exc:
            raise ConfigError(f"{t.where('kiosk_from')}[{i}]", str(exc)) from None
    tokens = tuple(_token(entry) for entry in t.tables("tokens"))
    unique([token.name for token in tokens], t.where("tokens"), "name")
    unique([token.sha256 for token in tokens], t.where("tokens"), "sha256")
    t.finish()
    return HttpSettings(bind, port, tuple(networks), tokens)


def _token(t: Table) -> ApiToken:
    name = t.text("name", pattern=_NAME)
    role = Role(t.text("role", choices=tuple(r.value for r in Role)))
    digest = t.text("sha256", pattern=_HEX64).lower()
    has_sam = t.boolean("has_sam", False)
    if has_sam and role is not Role.KIOSK:
        raise ConfigError(t.where("has_sam"), "only a kiosk token has a reader")
    t.finish()
    return ApiToken(name, role, digest, has_sam)
