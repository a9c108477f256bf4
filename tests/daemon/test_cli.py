"""The `lockerd` command line: usage errors, check-config, hash-card, admin fields."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from locker_host.daemon.cli import main
from locker_host.daemon.cli_admin import UsageProblem, payload_of, with_envelope
from locker_host.domain import Keyring
from locker_host.readers import staff_card_digests

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lockerd.toml"


def lockerd(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "locker_host.daemon", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )


def test_fields_are_strings_unless_given_as_json() -> None:
    assert payload_of(None, ["application=A-1", "key_version:=2", "code=012345"]) == {
        "application": "A-1",
        "key_version": 2,
        "code": "012345",  # a code stays a string, leading zero and all
    }
    assert payload_of(None, ["reason=a=b:=c"]) == {"reason": "a=b:=c"}
    assert payload_of('{"x": [1]}', []) == {"x": [1]}
    for bad in (["novalue"], ["=x"], ["a=1", "a=2"], ["n:=nope"]):
        with pytest.raises(UsageProblem):
            payload_of(None, bad)
    with pytest.raises(UsageProblem):
        payload_of("[1]", [])
    with pytest.raises(UsageProblem):
        payload_of("{}", ["a=b"])


def test_the_envelope_is_filled_but_never_overrides() -> None:
    filled = with_envelope({"application": "A"})
    assert filled["command_id"].startswith("admin-") and filled["operator"].startswith("admin:")
    assert filled["expires_at"].endswith("+00:00")
    assert with_envelope({"command_id": "mine"})["command_id"] == "mine"


def test_check_config_accepts_the_example_and_names_a_bad_key(tmp_path: Path) -> None:
    done = lockerd("check-config", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "48 compartments" in done.stdout and "wiring hash" in done.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace("channel =  3,", "channel = 25,", 1))
    done = lockerd("check-config", str(bad))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "lockerd: compartments[2].channel: 25 is outside 1..24 for bus0 unit 1"
    )


def test_hash_card_reads_the_number_from_stdin(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    staff = "5a" * 32
    secrets.write_text(
        '[owner_keys]\ncurrent = 1\nsecrets = { 1 = "' + "0f" * 32 + '" }\n'
        '[code_keys]\ncurrent = 1\nsecrets = { 1 = "' + "c0" * 32 + '" }\n'
        '[staff_keys]\ncurrent = 1\nsecrets = { 1 = "' + staff + '" }\n'
    )
    secrets.chmod(0o600)
    config = tmp_path / "lockerd.toml"
    config.write_text(
        EXAMPLE.read_text().replace("/tmp/lockerd-example/secrets.toml", str(secrets))
    )
    done = lockerd(
        "hash-card",
        "--config",
        str(config),
        "--staff-id",
        "M-9",
        "--department",
        "market",
        stdin="0012345678\n",
    )
    assert done.returncode == 0, done.stderr
    digest = staff_card_digests(Keyring({1: bytes.fromhex(staff)}, 1), "0012345678")[0].digest
    assert f'card_digest = "{digest}"' in done.stdout and 'staff_id = "M-9"' in done.stdout
    assert "0012345678" not in done.stdout
    secrets.chmod(0o644)
    refused = lockerd("hash-card", "--config", str(config), stdin="0012345678\n")
    assert refused.returncode == 2 and "chmod 600" in refused.stderr


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as no_command:
        main([])
    assert no_command.value.code == 2
    assert main(["run", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["admin", "--socket", str(tmp_path / "none.sock"), "ping"]) == 1
    assert "cannot reach lockerd" in capsys.readouterr().err
    assert main(["admin", "--socket", "x", "ping", "a=b", "--json", "{}"]) == 2
    # A private copy: the example's /tmp paths may be in use by a running lockerd.
    private = tmp_path / "lockerd.toml"
    private.write_text(EXAMPLE.read_text().replace("/tmp/lockerd-example/", f"{tmp_path}/"))
    assert main(["commission", "walk", "--config", str(private), "--compartment", "Z99"]) == 2
    assert "Z99 is not in the layout" in capsys.readouterr().err


def test_run_refuses_a_secrets_file_others_can_read(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[owner_keys]\n")
    secrets.chmod(0o644)
    config = tmp_path / "lockerd.toml"
    text = EXAMPLE.read_text().replace("/tmp/lockerd-example/secrets.toml", str(secrets))
    config.write_text(text.replace("/tmp/lockerd-example/", f"{tmp_path}/"))
    done = lockerd("run", "--config", str(config))
    assert done.returncode == 2
    assert '"level": "critical"' in done.stderr and "secrets_insecure" in done.stderr
