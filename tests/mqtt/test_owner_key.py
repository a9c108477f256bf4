"""The published owner_key vectors (docs/asyncapi/owner-key-vectors.json) hold: against the
locker's code, against openssl as an independent HMAC, and through ``lockerctl owner-key``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from locker_host.domain import InvalidIdNumber, owner_key, validate_id_number

ROOT = Path(__file__).resolve().parents[2]
VECTORS: dict[str, Any] = json.loads(
    (ROOT / "docs/asyncapi/owner-key-vectors.json").read_text(encoding="utf-8")
)
GOOD = VECTORS["vectors"]
REFUSED = VECTORS["refused"]


def label(vector: dict[str, Any]) -> str:
    return str(vector.get("note") or vector["why"])


@pytest.mark.parametrize("vector", GOOD, ids=label)
def test_the_locker_computes_every_published_key(vector: dict[str, Any]) -> None:
    number = validate_id_number(vector["id_number"])
    assert number.normalised == vector["normalised"]
    assert number.kind.value == vector["kind"]
    assert owner_key(bytes.fromhex(vector["secret"]), number) == vector["owner_key"]


@pytest.mark.parametrize("vector", GOOD, ids=label)
def test_every_published_key_is_plain_hmac_sha256_as_openssl_computes_it(
    vector: dict[str, Any],
) -> None:
    # An independent implementation: what a central system in another language does.
    done = subprocess.run(
        ["openssl", "dgst", "-sha256", "-mac", "HMAC", "-macopt", f"hexkey:{vector['secret']}"],
        input=vector["normalised"].encode("ascii"),
        capture_output=True,
        check=True,
    )
    assert done.stdout.decode().split("= ")[-1].strip() == vector["owner_key"]
    assert vector["owner_key"] == vector["owner_key"].lower()


@pytest.mark.parametrize("vector", REFUSED, ids=label)
def test_the_locker_refuses_every_published_refusal(vector: dict[str, Any]) -> None:
    with pytest.raises(InvalidIdNumber):
        validate_id_number(vector["id_number"])


def secrets_file(tmp_path: Path) -> Path:
    secrets = {v["key_version"]: v["secret"] for v in GOOD}
    path = tmp_path / "secrets.toml"
    table = ", ".join(f'{version} = "{hex_}"' for version, hex_ in sorted(secrets.items()))
    path.write_text(
        f"[owner_keys]\ncurrent = {max(secrets)}\nsecrets = {{ {table} }}\n\n"
        '[code_keys]\ncurrent = 1\nsecrets = { 1 = "c0dec0dec0dec0dec0dec0dec0dec0de" }\n'
    )
    path.chmod(0o600)
    return path


def lockerctl(*argv: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mqtt_bridge.ctl", *argv],
        input=stdin,
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_lockerctl_owner_key_reads_the_number_from_stdin_and_prints_send_fields(
    tmp_path: Path,
) -> None:
    secrets = secrets_file(tmp_path)
    for vector in GOOD:
        version = str(vector["key_version"])
        done = lockerctl(
            "owner-key", "--secrets", str(secrets), "--key-version", version,
            stdin=vector["id_number"] + "\n",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"owner_key={vector['owner_key']} key_version:={version}\n"
    current = lockerctl(
        "owner-key", "--secrets", str(secrets), "--json", stdin=GOOD[1]["id_number"]
    )
    assert json.loads(current.stdout) == {"owner_key": GOOD[1]["owner_key"], "key_version": 2}


def test_lockerctl_owner_key_refuses_without_echoing_the_number(tmp_path: Path) -> None:
    secrets = secrets_file(tmp_path)
    for vector in REFUSED:
        done = lockerctl("owner-key", "--secrets", str(secrets), stdin=vector["id_number"])
        assert done.returncode == 1, vector
        assert done.stdout == ""
        assert "not an ID number the locker accepts" in done.stderr
        assert vector["id_number"] not in done.stderr
    unknown = lockerctl(
        "owner-key", "--secrets", str(secrets), "--key-version", "9", stdin=GOOD[0]["id_number"]
    )
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert "no owner secret of version 9" in unknown.stderr
    secrets.chmod(0o644)
    open_file = lockerctl("owner-key", "--secrets", str(secrets), stdin=GOOD[0]["id_number"])
    assert open_file.returncode == 2
    assert "chmod 600" in open_file.stderr
