"""`[http]`: parsed into the API's settings; every problem names its key."""

from __future__ import annotations

import io
import ipaddress
import tomllib
from pathlib import Path
from typing import Any

import pytest

from locker_host.api import Role, token_digest
from locker_host.daemon import ConfigError, parse_config
from locker_host.daemon.cli import main

BASE = Path("/etc/lockerd")
DIGEST = token_digest("a-long-random-token-for-tests")


def with_http(valid: dict[str, Any], **http: Any) -> dict[str, Any]:
    return {**valid, "http": http}


def test_no_http_table_means_no_server(valid: dict[str, Any]) -> None:
    assert parse_config(valid, BASE).http is None


def test_defaults_are_loopback_and_the_local_kiosk(valid: dict[str, Any]) -> None:
    http = parse_config(with_http(valid), BASE).http
    assert http is not None
    assert (http.bind, http.port, http.tokens) == ("127.0.0.1", 8080, ())
    assert http.kiosk_from == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    )


def test_tokens_are_digests_with_roles(valid: dict[str, Any]) -> None:
    tokens = [
        {"name": "kiosk-front", "role": "kiosk", "sha256": DIGEST.upper(), "has_sam": True},
        {"name": "ops", "role": "admin", "sha256": "ab" * 32},
    ]
    http = parse_config(with_http(valid, port=0, tokens=tokens), BASE).http
    assert http is not None
    kiosk, ops = http.tokens
    assert (kiosk.name, kiosk.role, kiosk.sha256, kiosk.has_sam) == (
        "kiosk-front",
        Role.KIOSK,
        DIGEST,
        True,
    )
    assert ops.role is Role.ADMIN and not ops.has_sam
    assert DIGEST not in repr(kiosk)


@pytest.mark.parametrize(
    ("http", "key", "problem"),
    [
        ({"bind": "localhost"}, "http.bind", "is not an IP address"),
        ({"port": 70000}, "http.port", "outside 0..65535"),
        ({"kiosk_from": ["10.0.0.1/8"]}, "http.kiosk_from[0]", "has host bits set"),
        ({"kiosk_from": "127.0.0.1"}, "http.kiosk_from", "array of strings"),
        (
            {"tokens": [{"name": "a", "role": "root", "sha256": DIGEST}]},
            "http.tokens[0].role",
            "not one of",
        ),
        (
            {"tokens": [{"name": "a", "role": "staff", "sha256": "abc"}]},
            "http.tokens[0].sha256",
            "does not match",
        ),
        (
            {"tokens": [{"name": "a b", "role": "staff", "sha256": DIGEST}]},
            "http.tokens[0].name",
            "does not match",
        ),
        (
            {"tokens": [{"name": "a", "role": "staff", "sha256": DIGEST, "has_sam": True}]},
            "http.tokens[0].has_sam",
            "only a kiosk",
        ),
        (
            {"tokens": [{"name": "a", "role": "staff", "sha256": DIGEST, "token": "x"}]},
            "http.tokens[0].token",
            "unknown key",
        ),
        (
            {
                "tokens": [
                    {"name": "a", "role": "staff", "sha256": DIGEST},
                    {"name": "a", "role": "kiosk", "sha256": "cd" * 32},
                ]
            },
            "http.tokens[1].name",
            "already",
        ),
        (
            {
                "tokens": [
                    {"name": "a", "role": "staff", "sha256": DIGEST},
                    {"name": "b", "role": "kiosk", "sha256": DIGEST},
                ]
            },
            "http.tokens[1].sha256",
            "already",
        ),
        ({"listen": "0.0.0.0"}, "http.listen", "unknown key"),
    ],
)
def test_every_error_names_its_key(
    valid: dict[str, Any], http: dict[str, Any], key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(with_http(valid, **http), BASE)
    assert error.value.key == key
    assert problem in error.value.problem


def test_hash_token_prints_the_table_to_paste(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], valid: dict[str, Any]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-random-token-for-tests\n"))
    assert main(["hash-token", "--name", "ops", "--role", "technician"]) == 0
    printed = capsys.readouterr().out
    assert "a-long-random-token-for-tests" not in printed
    http = parse_config(with_http(valid, **tomllib.loads(printed)["http"]), BASE).http
    assert http is not None
    (token,) = http.tokens
    assert (token.name, token.role, token.sha256) == ("ops", Role.TECHNICIAN, DIGEST)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["hash-token"]) == 2
