"""`lockerd demo --signed`: a locker that wants every command signed, for integrators to test
their signatures against. A command signed as docs/asyncapi describes (with the key the demo
prints, in hex, as lockerctl reads it) is carried out; an unsigned one and a forged one are
refused; the owner_key computed with the printed `lockerctl owner-key` line reaches the
certificate the demo seeded for the same specimen card."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from demo.hall import ALICE

from .test_demo import Demo, started

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    with started("--signed") as running:
        yield running


def lockerctl(argv: list[str], stdin: str | None = None) -> tuple[int, Any, str]:
    done = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=90, check=False
    )
    out: Any = json.loads(done.stdout) if done.stdout.startswith("{") else done.stdout
    return done.returncode, out, done.stderr


def without_signature(argv: list[str]) -> list[str]:
    at = argv.index("--sign-key-id")
    return argv[:at] + argv[at + 4 :]


def test_a_signed_command_is_accepted_and_an_unsigned_one_refused(demo: Demo) -> None:
    signed = demo.command(" --sign-key-file ")
    assert signed[signed.index("--sign-key-id") + 1] == "demo-central"
    code, reply, err = lockerctl(signed)
    assert code == 0, err
    assert reply["reply"]["result"] == "pong"
    code, reply, _ = lockerctl(without_signature(signed))
    assert code == 1
    assert reply["reply"]["error"]["code"] == "signature_required"
    forged = demo.run_dir / "forged-key.hex"
    forged.write_text("00" * 32 + "\n")
    key_at = signed.index("--sign-key-file") + 1
    code, reply, _ = lockerctl([*signed[:key_at], str(forged), *signed[key_at + 1 :]])
    assert code == 1
    assert reply["reply"]["error"]["code"] == "signature_invalid"


def test_a_key_from_the_printed_owner_key_line_joins_the_seeded_certificate(demo: Demo) -> None:
    code, fields, err = lockerctl(demo.command(" owner-key "), stdin=ALICE.id_number + "\n")
    assert code == 0, err
    signed = demo.command(" --sign-key-file ")
    at = signed.index("ping")
    deadline = (datetime.now(UTC) + timedelta(days=3)).isoformat(timespec="seconds")
    reserve = [
        *signed[:at], "reserve", "application=TRY-SIGNED-1", *fields.split(), "size=S",
        "department=market", f"deadline={deadline}", *signed[at + 1 :],
    ]  # fmt: skip
    code, reply, err = lockerctl(reserve)
    assert code == 0, (reply, err)
    alice = demo.value(r"her \(specimen\) ID card on the reader opens (\S+)$")
    # The locker matched the key to the certificate it holds for the same card.
    assert reply["reply"] == {
        "ok": True,
        "result": "reserved",
        "application": "TRY-SIGNED-1",
        "compartment": alice,
        "shared": True,
    }


def test_events_are_resent_at_the_normal_interval(demo: Demo) -> None:
    config = Path(demo.run_dir / "lockerd.toml").read_text(encoding="utf-8")
    assert "resend_unacked_after_s" not in config  # the default (docs/configuration.md)
    assert "signed_commands" in config
