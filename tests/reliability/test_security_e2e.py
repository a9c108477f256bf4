"""Issue 7.3, security, end to end: lockerd with its MQTT link (signed remote opens
configured) against a real Mosquitto, the simulator's boards and SAM reader, the
central system's consumer and a capture of ALL broker traffic (a `#` subscriber).

One run of the hall's flows (drop-off by ID card, reservation and loading, pickup by
card, a proxy's pickup code, typed ID numbers, signed and unsigned remote opens), then:

* a typed ID number alone opens nothing (weak credential), neither at the scanner nor
  posted by a kiosk without a SAM, nor does a pickup code once code entry is locked out
  by a brute force;
* lockerd's HTTP API refuses a missing or unknown token (401) and the wrong role (403);
* over MQTT a replayed command is answered from the store and pulses nothing more, a
  stale one is refused `expired`, an open without or with a wrong signature is
  refused; the simulator's unlock log shows exactly the opens that were due;
* no resident ID number (nor its area-and-birth-date prefix) in clear in the SQLite
  files (WAL and SHM included), lockerd's logs, every MQTT message captured (topic and
  payload), the broker's persistence file and log, the HTTP audit export;
* tampering with an audit row is found and named; truncating the tail is found
  against the audit head the locker published in its retained `state`.

Already covered elsewhere, at unit and service level (not repeated here): the audit
chain cases (tests/store/test_audit.py), code lockout policy (tests/domain/
test_policies.py), dedup and expiry (tests/app/test_commands.py,
tests/mqtt/test_commands.py), signatures (tests/mqtt/test_commands.py), ACLs, TLS and
credentials on the broker (tests/mqtt/test_security.py), personal data in the store
(tests/app/test_personal_data.py).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlite_utils

from locker_host.api import token_digest
from locker_host.store.audit import ChainBroken, ChainHead, ChainIntact, ChainProblem, verify_chain
from mqtt_bridge import Topics
from mqtt_bridge.signing import sign
from tests.e2e.conftest import RAW_IDS
from tests.e2e.lockerd import MARKET_CLERK, owner_key
from tests.e2e.rig import wait_for
from tests.mqtt.broker import Mosquitto, persistence_lines
from tests.store.builders import drop_audit_triggers

from .central import CentralSide, ConsumerJournal
from .daemon import Run, iso_in, running_locker, unlock_writes
from .profile import Profile
from .test_crash import mqtt_settings

pytestmark = pytest.mark.reliability

TOPICS = Topics("e2e", "L01")
KEY_ID, KEY = "central-1", bytes.fromhex("42" * 32)
TOKENS = {"kiosk": "kiosk-" + "k" * 24, "staff": "staff-" + "s" * 24, "admin": "admin-" + "a" * 24}
HTTP = {
    "port": 0,
    "tokens": [
        {"name": f"{role}-1", "role": role, "sha256": token_digest(token)}
        for role, token in TOKENS.items()  # the kiosk has no SAM: its ID numbers are weak
    ],
}
SECRETS = f'\n[mqtt]\ncommand_keys = {{ {KEY_ID} = "{KEY.hex()}" }}\n'
CODE = "48291637"


def logged(run: Run, message: str, error: str) -> bool:
    return any(
        line.get("message") == message and line.get("error") == error
        for line in run.lockerd.log_lines()
    )


def request(central: CentralSide, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    assert central.capture is not None
    reply: dict[str, Any] = central.thread.call(central.capture.request(TOPICS, name, payload))
    return dict(reply["reply"])


def signed_open(cid: str, **fields: Any) -> dict[str, Any]:
    payload = {
        "command_id": f"sec-{cid}-{time.monotonic_ns()}",
        "compartment": cid,
        "reason": "security test",
        "expires_at": iso_in(600),
        **fields,
    }
    return sign(payload, topic=TOPICS.command("open"), key_id=KEY_ID, key=KEY)


def scan(blobs: dict[str, bytes]) -> list[str]:
    """Where a raw test ID number (or its first 14 characters) shows up."""
    found = []
    for where, data in blobs.items():
        upper = data.upper()
        for number in RAW_IDS:
            for part in (number, number[:14]):
                if part.encode() in upper:
                    found.append(f"{part[:6]}… in {where}")
    return found


def http_checks(run: Run, bobs_number: str) -> dict[str, Any]:
    """Tokens and roles on lockerd's own HTTP server; a kiosk without a SAM is weak."""

    def served() -> str | None:
        lines = run.lockerd.log_lines()
        return next((str(x["url"]) for x in lines if x.get("message") == "http serving"), None)

    base = str(wait_for(served, timeout=20, what="lockerd to serve HTTP")).rstrip("/")

    def bearer(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKENS[role]}"}

    statuses: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=10) as client:
        for name, method, path, headers, body in (
            ("no token", "GET", "/api/v1/compartments", {}, None),
            ("wrong token", "GET", "/api/v1/compartments", {"Authorization": "Bearer nope"}, None),
            ("kiosk on staff data", "GET", "/api/v1/compartments", bearer("kiosk"), None),
            (
                "kiosk opens",
                "POST",
                "/api/v1/staff/open",
                bearer("kiosk"),
                {"compartment": "A01", "reason": "x"},
            ),
            ("staff exports audit", "GET", "/api/v1/audit.csv", bearer("staff"), None),
            ("staff reads", "GET", "/api/v1/compartments", bearer("staff"), None),
        ):
            statuses[name] = client.request(method, path, headers=headers, json=body).status_code
        swipe = client.post(
            "/api/v1/kiosk/swipe",
            headers=bearer("kiosk"),
            json={"reader": "sam", "id_number": bobs_number},
        )
        audit = client.get("/api/v1/audit.csv", headers=bearer("admin"))
    assert statuses == {
        "no token": 401,
        "wrong token": 401,
        "kiosk on staff data": 403,
        "kiosk opens": 403,
        "staff exports audit": 403,
        "staff reads": 200,
    }, statuses
    body = swipe.json()
    assert not body["ok"] and body["error"]["code"] == "pickup_code_required", body
    assert audit.status_code == 200
    return {"statuses": statuses, "audit_csv": audit.content, "swipe": swipe.content}


def flows(run: Run, central: CentralSide) -> dict[str, Any]:
    rig, lockerd, journal = run.rig, run.lockerd, run.journal
    card = run.locker.card
    seen: dict[str, Any] = {}
    run.wait_boards_online()
    rig.doors_open_by_themselves(None, close_after=0.5)

    # Drop-off by ID card (SAM: strong): a dossier goes in.
    assert lockerd.admin("arm_dropoff", {"service": "business_licence"})["ok"]
    rig.swipe(card["alice"])
    deposit = journal.wait_event_type("open.opened", purpose="deposit")
    rig.put(deposit["payload"]["compartment"])
    journal.wait_event_type("dossier.deposited")

    # A certificate for bob, with a pickup code for a proxy, reserved over MQTT and loaded.
    reserve = request(
        central,
        "reserve",
        {
            "command_id": "sec-reserve-1",
            "expires_at": iso_in(600),
            "application": "APP-S1",
            "owner_key": owner_key(card["bob"]),
            "key_version": 1,
            "size": "S",
            "department": "market",
            "deadline": iso_in(3 * 86400),
            "pickup_code": CODE,
        },
    )
    assert reserve["ok"], reserve
    bobs = reserve["compartment"]
    wait_for(lambda: run.compartment_door(bobs) == "closed", timeout=10, what="bob's door")
    rig.staff_card(MARKET_CLERK)
    wait_for(lambda: rig.door_is_open(bobs), timeout=10, what="bob's compartment open to load")
    rig.put(bobs)
    journal.wait_event_type("certificate.loaded", application="APP-S1")
    wait_for(lambda: run.compartment_door(bobs) == "closed", timeout=10, what="loaded, shut")

    # A typed ID number alone opens nothing (the scanner is a keyboard-like reader).
    before = len(unlock_writes(rig))
    rig.scanner.type(card["bob"])
    wait_for(
        lambda: logged(run, "pickup by card", "pickup_code_required"),
        timeout=10,
        what="the typed number refused: it needs the pickup code too",
    )
    rig.scanner.type(card["carol"])  # nothing for carol either, and nothing leaks
    # Brute force on the code: wrong codes until code entry is locked out ...
    for n in range(5):
        rig.scanner.type(f"P{(int(CODE) + 1 + n) % 10**8:08d}")
    journal.wait_event_type("code_entry.locked_out", timeout=15)
    rig.scanner.type(f"P{CODE}")  # ... then even the right one is refused
    wait_for(
        lambda: logged(run, "pickup by code", "code_locked_out"),
        timeout=10,
        what="the right code refused while locked out",
    )
    seen["http"] = http_checks(run, card["bob"])
    time.sleep(0.5)
    seen["writes_from_weak_and_locked_out"] = len(unlock_writes(rig)) - before

    # Bob's own card (strong) still works: the certificate is collected.
    rig.swipe(card["bob"])
    journal.wait_event_type("open.opened", purpose="pickup")
    rig.take(bobs)
    journal.wait_event_type("certificate.collected", application="APP-S1")

    # Remote opens over MQTT: signed, replayed, stale, unsigned, tampered, unknown key.
    free = [c for c, v in run.compartments().items() if v["state"] == "free" and c != bobs]
    target = free[0]
    wait_for(lambda: run.compartment_door(target) == "closed", timeout=10, what=target)
    since = time.monotonic()
    good = signed_open(target)
    first = request(central, "open", good)
    assert first["ok"], first
    replayed = request(central, "open", good)
    assert replayed == first, (first, replayed)  # answered from the store
    stale = request(central, "open", signed_open(free[1], expires_at=iso_in(-60)))
    unsigned = request(
        central,
        "open",
        {
            "command_id": "sec-unsigned",
            "compartment": free[2],
            "reason": "x",
            "expires_at": iso_in(600),
        },
    )
    tampered = {**signed_open(free[3]), "compartment": free[4]}
    forged = sign(
        {
            "command_id": "sec-forged",
            "compartment": free[5],
            "reason": "x",
            "expires_at": iso_in(600),
        },
        topic=TOPICS.command("open"),
        key_id="other",
        key=bytes(32),
    )
    refusals = {
        "stale": (stale, "expired"),
        "unsigned": (unsigned, "signature_required"),
        "tampered": (request(central, "open", tampered), "signature_invalid"),
        "forged": (request(central, "open", forged), "signature_invalid"),
    }
    for what, (reply, code) in refusals.items():
        assert not reply["ok"] and reply["error"]["code"] == code, (what, reply)
    journal.wait_outcome(first["opens"][0]["open_id"])
    time.sleep(0.5)
    wiring = run.wiring()
    remote_writes = [wiring[(u, c)] for u, c, at in unlock_writes(rig) if at >= since]
    seen["remote_writes"] = remote_writes
    assert remote_writes == [target], f"expected one pulse of {target}: {remote_writes}"
    return seen


def test_security_end_to_end(
    tmp_path: Path, commissioned_db: Path, profile: Profile, record_property: Any
) -> None:
    broker_dir = tmp_path / "broker"
    broker = Mosquitto(broker_dir, lines=["allow_anonymous true", *persistence_lines(broker_dir)])
    broker.start()
    central = CentralSide(broker.port, TOPICS)
    central.start()
    changes = {"mqtt": mqtt_settings(broker.port), "http": HTTP}
    try:
        with running_locker(tmp_path, commissioned_db, changes, secrets=SECRETS) as run:
            run.journal = ConsumerJournal(run.lockerd, central=central)  # it acknowledges
            seen = flows(run, central)
            wait_for(
                lambda: run.lockerd.admin("events", {"limit": 1})["events"] == [],
                timeout=30,
                what="every event acknowledged",
            )
            database, lockerd = run.lockerd.database, run.lockerd
        # lockerd stopped with SIGTERM (exit 0) and its files scanned by running_locker.
        time.sleep(1.5)  # the broker's autosave (1 s) has written its database
        captured = central.captured()
        states = [m for m in captured if m.topic == TOPICS.state and m.payload]
        blobs = {
            f"mqtt {m.topic} #{i}": m.topic.encode() + b" " + m.payload
            for i, m in enumerate(captured)
        }
        blobs["http audit.csv"] = seen["http"]["audit_csv"]
        blobs["http swipe reply"] = seen["http"]["swipe"]
        for path in [*lockerd.files(), *broker_dir.rglob("*")]:
            if path.is_file():
                blobs[str(path.relative_to(tmp_path))] = path.read_bytes()
    finally:
        central.stop()
        broker.kill()
    assert scan({"control": b"x" + RAW_IDS[0].lower().encode()}) != []  # the scan does find one
    leaks = scan(blobs)
    assert leaks == [], leaks
    assert seen["writes_from_weak_and_locked_out"] == 0, seen
    assert not central.contract.violations, central.contract.violations[:10]

    # Tampering: an audit row changed (triggers dropped, as an attacker with the file would).
    published = json.loads(states[-1].payload)["audit_head"]
    anchor = ChainHead(published["seq"], published["hash"])
    assert isinstance(verdict(database, anchor), ChainIntact)
    changed = tmp_path / "changed.db"
    copy_db(database, changed)
    with sqlite3.connect(changed) as conn:
        drop_audit_triggers(conn)
        seq = conn.execute(
            "SELECT min(seq) FROM audit_log WHERE action = 'remote_open'"
        ).fetchone()[0]
        conn.execute("UPDATE audit_log SET actor = 'central:nobody' WHERE seq = ?", [seq])
    broken = verdict(changed, None)
    assert broken == ChainBroken(seq, ChainProblem.HASH_MISMATCH, seq - 1), broken
    truncated = tmp_path / "truncated.db"
    copy_db(database, truncated)
    with sqlite3.connect(truncated) as conn:
        drop_audit_triggers(conn)
        conn.execute("DELETE FROM audit_log WHERE seq > ?", [anchor.seq - 3])
    assert isinstance(verdict(truncated, None), ChainIntact)  # the box alone cannot tell ...
    cut = verdict(truncated, anchor)  # ... the head it published can
    assert isinstance(cut, ChainBroken) and cut.problem is ChainProblem.ANCHOR_MISSING, cut
    summary = (
        f"{len(captured)} MQTT messages captured, {len(blobs)} blobs scanned (SQLite+WAL+SHM, "
        f"logs, MQTT, broker files, HTTP audit export): 0 ID numbers; "
        f"HTTP {seen['http']['statuses']}; typed ID + locked-out code: 0 unlock "
        f"writes; remote: 1 signed open pulsed once, replay/stale/unsigned/tampered/forged "
        f"refused; audit row change found at seq {seq}, truncation found against the "
        f"published head (seq {anchor.seq})"
    )
    record_property("security", summary)
    print(summary)


def copy_db(source: Path, target: Path) -> None:
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")


def verdict(database: Path, anchor: ChainHead | None) -> ChainIntact | ChainBroken:
    conn = sqlite3.connect(database)
    try:
        return verify_chain(sqlite_utils.Database(conn), anchor)
    finally:
        conn.close()
