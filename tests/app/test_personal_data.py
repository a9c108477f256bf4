"""Personal data: raw ID numbers and codes never reach the database files; owner
keys live only in ``personal_data`` rows (and in events, for the central system);
rows end with their item and can be purged without breaking anything."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from locker_host.domain import LockerPolicy, normalise_id_number
from locker_host.store import ChainIntact
from tests.domain.helpers import ALICE_ID, BOB_ID, CAROL_ID

from .harness import DAY, Locker, iso, owner_key

STRANGER_ID = "360426199101010072"  # fails the check digit: never even keyed
NOBODY_ID = "110105198001010016"  # valid, has nothing here
PICKUP_CODE, CAROL_CODE, WRONG_CODE = "48151623", "27182818", "31415926"


async def full_flow(locker: Locker) -> list[str]:
    """Every way raw personal data enters the locker; returns the drop-off code it issued."""
    kiosk = locker.kiosk
    dropped = ((await kiosk.dropoff_by_card(ALICE_ID, "tax", "S")).to_json())["opens"][0][
        "compartment"
    ]
    await locker.use(dropped, item_after=True)
    bob = await locker.reserve("APP-1", BOB_ID, pickup_code=PICKUP_CODE)
    carol = await locker.reserve("APP-2", CAROL_ID, pickup_code=CAROL_CODE, department="permits")
    await locker.load(bob)
    await locker.load(carol, card="card-permits")
    for _ in range(3):
        assert ((await kiosk.pickup_by_typed_id(ALICE_ID, WRONG_CODE)).to_json())["ok"] is False
    codes = [
        ((await kiosk.pickup_by_code(WRONG_CODE)).to_json())["error"]["code"] for _ in range(3)
    ]
    assert codes == ["wrong_code", "wrong_code", "code_locked_out"]  # 5 failures lock entry
    assert ((await kiosk.pickup_by_card(NOBODY_ID)).to_json())["error"]["code"] == "nothing_for_you"
    assert ((await kiosk.pickup_by_card(STRANGER_ID)).to_json())["error"][
        "code"
    ] == "invalid_id_number"
    locker.clock.advance(locker.service.config.policy.code_lockout_s + 1)
    assert ((await kiosk.pickup_by_code(PICKUP_CODE)).to_json())["ok"]
    await locker.use(bob, item_after=False)
    assert ((await kiosk.pickup_by_typed_id(CAROL_ID, CAROL_CODE)).to_json())["ok"]
    issued = await locker.ok(
        "expect_dropoff",
        application="APP-3",
        department="tax",
        size="M",
        valid_until=iso(locker.clock.wall_s + DAY),
        owner_key=owner_key(ALICE_ID),
        key_version=2,
    )
    second = await locker.ok(
        "expect_dropoff",
        application="APP-4",
        department="tax",
        size="S",
        valid_until=iso(locker.clock.wall_s + DAY),
    )
    started = (await kiosk.dropoff_by_code(issued["code"])).to_json()
    await locker.use(started["opens"][0]["compartment"], item_after=True)
    return [issued["code"], second["code"]]


def database_bytes(db: Path) -> bytes:
    files = sorted(db.parent.glob(db.name + "*"))
    assert db in files
    return b"".join(f.read_bytes() for f in files)


def query(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def column_text(db: Path, sql: str) -> str:
    return "\n".join(str(row) for row in query(db, sql))


async def test_no_raw_id_number_or_code_reaches_the_database_files(db_path: Path) -> None:
    # Eight-digit codes, so that no code turns up by chance inside a hash or a time.
    locker = await Locker.start(db_path, policy=LockerPolicy(code_min_length=8))
    dropoff_codes = await full_flow(locker)
    assert all(len(code) == 8 for code in dropoff_codes)
    raw = database_bytes(db_path)  # while open: main file, WAL and shared memory
    await locker.close()
    raw += database_bytes(db_path)  # after the last connection checkpointed the WAL
    secrets = [
        ALICE_ID,
        BOB_ID,
        CAROL_ID,
        NOBODY_ID,
        STRANGER_ID,
        PICKUP_CODE,
        CAROL_CODE,
        WRONG_CODE,
        *dropoff_codes,
    ]
    secrets += [normalise_id_number(s).lower() for s in secrets] + [ALICE_ID[:6] + "********"]
    for secret in secrets:
        assert secret.encode() not in raw, f"{secret} found in the database files"
    # The scan does see the data: the owner keys are there (in personal_data).
    assert owner_key(BOB_ID).encode() in raw


async def test_owner_keys_live_only_in_personal_data_and_events(db_path: Path) -> None:
    locker = await Locker.start(db_path, policy=LockerPolicy(code_min_length=8))
    await full_flow(locker)
    await locker.close()
    documents = column_text(db_path, "SELECT body FROM state_documents")
    audit = column_text(db_path, "SELECT * FROM audit_log")
    replies = column_text(db_path, "SELECT reply FROM commands")
    personal = column_text(db_path, "SELECT owner_key FROM personal_data")
    events = column_text(db_path, "SELECT payload FROM outbox")
    for person in (ALICE_ID, BOB_ID, CAROL_ID, NOBODY_ID):
        key = owner_key(person)
        assert key in personal, person
        assert key not in documents and key not in audit and key not in replies, person
    # The central system computes the same keys: its events name the owner.
    assert owner_key(BOB_ID) in events and owner_key(CAROL_ID) in events
    # Code digests are personal rows too, never in a document.
    digests = query(
        db_path,
        "SELECT DISTINCT pickup_code_hash FROM personal_data WHERE pickup_code_hash IS NOT NULL",
    )
    assert len(digests) == 4  # two pickup codes and two drop-off codes
    assert not [d for (d,) in digests if d in documents]
    # A denied swipe is audited with a reference to the owner key, not the key itself.
    [(ref,)] = query(
        db_path,
        "SELECT personal_ref FROM audit_log WHERE action = 'pickup' AND outcome = 'denied' "
        "AND json_extract(details, '$.refusal_code') = 'nothing_for_you'",
    )
    [(key,)] = query(db_path, "SELECT owner_key FROM personal_data WHERE ref = ?", ref)
    assert key == owner_key(NOBODY_ID)


async def test_personal_rows_end_with_their_item_and_can_be_purged(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    compartment = await locker.reserve("APP-1", BOB_ID, pickup_code=PICKUP_CODE)
    await locker.load(compartment)

    def ended(item: str) -> list[bool]:
        # The lifetime key of an item's rows is "item:<id>#<ref>".
        sql = "SELECT ended_at IS NOT NULL FROM personal_data WHERE item_id LIKE ?"
        return [bool(e) for (e,) in query(db_path, sql, f"item:{item}#%")]

    assert ended("APP-1") == [False, False]  # the owner key and the code digest
    assert ((await locker.kiosk.pickup_by_card(BOB_ID)).to_json())["ok"]
    await locker.use(compartment, item_after=False)
    assert ended("APP-1") == [True, True]
    # The claim and the open's citizen went with it: no live row is left behind.
    assert query(db_path, "SELECT count(*) FROM personal_data WHERE ended_at IS NULL") == [(0,)]

    purged = await locker.service.runner.run(
        lambda s: s.purge_personal_data(
            now=s.boot.started_at + timedelta(days=400), retention=timedelta(days=30)
        )
    )
    assert purged > 0
    assert query(db_path, "SELECT count(*) FROM personal_data") == [(0,)]
    verdict = await locker.service.runner.run(lambda s: s.verify_audit_chain())
    assert isinstance(verdict, ChainIntact)
    await locker.restart()
    assert locker.service.statistics().missing_personal_refs == 0
    await locker.close()


async def test_the_published_snapshot_carries_the_audit_head_and_no_personal_data(
    db_path: Path,
) -> None:
    locker = await Locker.start(db_path, policy=LockerPolicy(code_min_length=8))
    before = await locker.service.snapshot()
    dropoff_codes = await full_flow(locker)
    after = await locker.service.snapshot()
    head = await locker.service.runner.run(lambda store: store.chain_head())
    assert after["audit_head"] == {"seq": head.seq, "hash": head.hash}
    assert after["audit_head"]["seq"] > before["audit_head"]["seq"]
    assert after["boot_id"] == str(locker.service.runner.boot_id)
    ids = [c["compartment"] for c in after["compartments"]]
    assert ids == [spec.id for spec in locker.service.config.layout]
    assert any(c["items"] for c in after["compartments"])
    text = json.dumps(after)
    for secret in [ALICE_ID, BOB_ID, CAROL_ID, PICKUP_CODE, CAROL_CODE, *dropoff_codes]:
        assert secret not in text
    for person in (ALICE_ID, BOB_ID, CAROL_ID):
        assert owner_key(person) not in text
    await locker.close()
