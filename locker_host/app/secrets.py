"""The HMAC secrets, read from a file outside the database.

Owner keys are HMAC-SHA256(secret, ID number) and code digests
HMAC-SHA256(secret, purpose:code); both are only as strong as the secret is
far from the data (shared/notes/reliability-security.md 4.7), so the secrets
never enter SQLite and the file must be readable by its owner alone (like
ssh's private keys: any group or world permission bit is refused). Format,
TOML, secrets in hex (at least 16 bytes), several versions so that a rotation
never strands an item::

    [owner_keys]            # provisioned by the central system, which computes the same keys
    current = 2
    secrets = { 1 = "9f2c…", 2 = "41ab…" }

    [code_keys]             # pickup and drop-off code digests; local to the locker
    current = 1
    secrets = { 1 = "c0de…" }

    [staff_keys]            # optional: staff card digests (the daemon's staff directory)
    current = 1
    secrets = { 1 = "57af…" }

Other tables belong to the adapters that need a secret (the MQTT link's
password and command keys: ``[mqtt]``); ``load_table`` hands one out after
the same checks of the file.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locker_host.domain import Keyring

from .errors import SecretsInsecure, SecretsMalformed, SecretsMissing

_MIN_SECRET_BYTES = 16


@dataclass(frozen=True)
class Keys:
    owner: Keyring
    codes: Keyring
    staff: Keyring | None = None  # None: the file has no [staff_keys]


def load_keys(path: str | os.PathLike[str]) -> Keys:
    data = _read(Path(path))
    staff = _keyring(data, "staff_keys") if "staff_keys" in data else None
    return Keys(owner=_keyring(data, "owner_keys"), codes=_keyring(data, "code_keys"), staff=staff)


def load_table(path: str | os.PathLike[str], section: str) -> dict[str, Any] | None:
    """One table of the secrets file (None when absent), read with the same checks."""
    table = _read(Path(path)).get(section)
    if table is None:
        return None
    if not isinstance(table, dict):
        raise SecretsMalformed(f"[{section}] must be a table", field=section)
    return table


def _read(path: Path) -> dict[str, Any]:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SecretsMissing(f"no secrets file at {path}", path=str(path)) from None
    except OSError as exc:
        raise SecretsMissing(f"cannot stat {path}: {exc.strerror}", path=str(path)) from None
    if not stat.S_ISREG(info.st_mode):
        raise SecretsMalformed(f"{path} is not a regular file", path=str(path))
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise SecretsInsecure(
            f"{path} is accessible to group or others (mode {mode:04o}); chmod 600 it",
            path=str(path),
            mode=f"{mode:04o}",
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SecretsMissing(f"cannot read {path}: {exc.strerror}", path=str(path)) from None
    except UnicodeDecodeError:
        raise SecretsMalformed(f"{path} is not UTF-8 text", path=str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib names the line and column, never the value.
        raise SecretsMalformed(f"{path} is not valid TOML: {exc}", path=str(path)) from None


def _keyring(data: dict[str, Any], section: str) -> Keyring:
    table = data.get(section)
    if not isinstance(table, dict):
        raise SecretsMalformed(f"the secrets file lacks the [{section}] table", field=section)
    current = table.get("current")
    if not isinstance(current, int) or isinstance(current, bool) or current < 0:
        raise SecretsMalformed("current must be a key version number", field=f"{section}.current")
    raw = table.get("secrets")
    if not isinstance(raw, dict) or not raw:
        raise SecretsMalformed("secrets must map versions to hex", field=f"{section}.secrets")
    secrets: dict[int, bytes] = {}
    for version_text, value in raw.items():
        where = f"{section}.secrets.{version_text}"
        if not version_text.isdigit():
            raise SecretsMalformed("a key version is a number", field=where)
        if not isinstance(value, str):
            raise SecretsMalformed("a secret is a hex string", field=where)
        try:
            secret = bytes.fromhex(value)
        except ValueError:
            raise SecretsMalformed("a secret is a hex string", field=where) from None
        if len(secret) < _MIN_SECRET_BYTES:
            raise SecretsMalformed(f"a secret has at least {_MIN_SECRET_BYTES} bytes", field=where)
        secrets[int(version_text)] = secret
    if current not in secrets:
        raise SecretsMalformed("the current version has no secret", field=f"{section}.current")
    return Keyring(secrets, current)
