"""The HMAC secrets file: versioned keyrings, owner-only permissions, typed errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from locker_host.app import (
    SecretsError,
    SecretsInsecure,
    SecretsMalformed,
    SecretsMissing,
    load_keys,
)

OWNER_1, OWNER_2, CODES_1 = "11" * 16, "22" * 32, "c0de" * 8

GOOD = f"""
[owner_keys]
current = 2
secrets = {{ 1 = "{OWNER_1}", 2 = "{OWNER_2}" }}

[code_keys]
current = 1
secrets = {{ 1 = "{CODES_1}" }}
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "keys.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_good_file_gives_both_keyrings(tmp_path: Path) -> None:
    keys = load_keys(write(tmp_path, GOOD))
    assert keys.owner.current == 2 and keys.owner.versions() == (2, 1)
    assert keys.owner.secrets[1] == bytes.fromhex(OWNER_1)
    assert keys.codes.secrets == {1: bytes.fromhex(CODES_1)}
    assert OWNER_2 not in repr(keys) and bytes.fromhex(OWNER_2).hex() not in repr(keys)


@pytest.mark.parametrize("mode", [0o640, 0o644, 0o604, 0o660, 0o602])
def test_group_or_world_access_is_refused(tmp_path: Path, mode: int) -> None:
    with pytest.raises(SecretsInsecure) as refused:
        load_keys(write(tmp_path, GOOD, mode))
    assert refused.value.code == "secrets_insecure"
    assert refused.value.details["mode"] == f"{mode:04o}"


def test_owner_read_only_is_fine(tmp_path: Path) -> None:
    assert load_keys(write(tmp_path, GOOD, 0o400)).codes.current == 1


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SecretsMissing) as missing:
        load_keys(tmp_path / "nope.toml")
    assert missing.value.code == "secrets_missing"


def test_a_directory_is_not_a_secrets_file(tmp_path: Path) -> None:
    folder = tmp_path / "keys.toml"
    folder.mkdir(mode=0o700)
    with pytest.raises(SecretsMalformed):
        load_keys(folder)


def replace_in_good(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


MALFORMED = [
    ("not toml = = 1", None),
    (GOOD.replace("[code_keys]", "[other]"), "code_keys"),
    (replace_in_good("current = 2", 'current = "2"'), "owner_keys.current"),
    (replace_in_good("current = 2", "current = 3"), "owner_keys.current"),
    (replace_in_good("current = 2", "current = true"), "owner_keys.current"),
    (replace_in_good(f', 2 = "{OWNER_2}"', ""), "owner_keys.current"),
    (replace_in_good(f'1 = "{OWNER_1}"', '1 = "zz"'), "owner_keys.secrets.1"),
    (replace_in_good(f'1 = "{OWNER_1}"', '1 = "abcd"'), "owner_keys.secrets.1"),
    (replace_in_good(f'1 = "{OWNER_1}"', "1 = 17"), "owner_keys.secrets.1"),
    (replace_in_good(f'1 = "{OWNER_1}"', f'one = "{OWNER_1}"'), "owner_keys.secrets.one"),
    (GOOD.replace(f'secrets = {{ 1 = "{CODES_1}" }}', "secrets = {}"), "code_keys.secrets"),
]


@pytest.mark.parametrize(("text", "field"), MALFORMED)
def test_malformed_files_name_what_is_wrong(tmp_path: Path, text: str, field: str | None) -> None:
    with pytest.raises(SecretsMalformed) as malformed:
        load_keys(write(tmp_path, text))
    assert malformed.value.code == "secrets_malformed"
    assert malformed.value.field == field
    # No secret is ever quoted in an error.
    assert OWNER_1 not in str(malformed.value) and CODES_1 not in str(malformed.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_bytes(b"\xff\xfe[owner_keys]")
    path.chmod(0o600)
    with pytest.raises(SecretsError) as malformed:
        load_keys(path)
    assert malformed.value.code == "secrets_malformed"
