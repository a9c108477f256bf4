"""`lockerd audit verify` on real SQLite files written by the locker's service: exit 0 on an
intact chain; exit 1 naming the first bad seq and the problem for a changed, deleted or
reordered row and for a head published in the retained state that the file no longer holds."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from locker_host.daemon.cli import main
from mqtt_bridge import messages
from tests.app.harness import Locker
from tests.domain.helpers import ALICE_ID, BOB_ID, CAROL_ID
from tests.store.builders import documented_hash, drop_audit_triggers


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A database with a few audit rows, and the retained state message published after them."""
    db_path = tmp_path / "locker.db"
    return db_path, asyncio.run(_write(db_path))


async def _write(db_path: Path) -> dict[str, Any]:
    locker = await Locker.start(db_path)
    try:
        for n, person in enumerate((ALICE_ID, BOB_ID, CAROL_ID)):
            await locker.reserve(f"APP-{n}", person)
        await locker.central("open", compartment="ZZ9", reason="no such door")  # a denial row
        state = messages.state(await locker.service.snapshot(), at=locker.clock.wall_s)
    finally:
        await locker.close()
    assert state["audit_head"]["seq"] >= 4
    return state


@pytest.fixture
def shell(published: tuple[Path, dict[str, Any]]) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(published[0], isolation_level=None)
    conn.row_factory = sqlite3.Row
    drop_audit_triggers(conn)
    yield conn
    conn.close()


def verify(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["audit", "verify", *argv])
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def state_file(tmp_path: Path, state: dict[str, Any]) -> str:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    return str(path)


def test_an_intact_chain_exits_0_and_holds_the_published_head(
    published: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path, state = published
    head = state["audit_head"]
    code, out, _ = verify(capsys, "--database", str(db_path))
    assert code == 0
    assert (
        out == f"audit chain intact: {head['seq']} rows, head seq {head['seq']} hash {head['hash']}"
    )
    code, out, _ = verify(
        capsys, "--database", str(db_path), "--state", state_file(tmp_path, state)
    )
    assert code == 0
    assert out.endswith(f"it holds the published head seq {head['seq']}")
    code, _, _ = verify(
        capsys, "--database", str(db_path), "--head", f"{head['seq']}:{head['hash']}"
    )
    assert code == 0


def test_a_changed_row_is_named(
    published: tuple[Path, dict[str, Any]],
    shell: sqlite3.Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.execute("UPDATE audit_log SET actor = 'central:someone-else' WHERE seq = 2")
    code, out, _ = verify(capsys, "--database", str(published[0]))
    assert code == 1
    assert out.startswith("audit chain broken at seq 2: hash_mismatch: ")
    assert out.endswith("(1 rows before it hold)")


def test_a_changed_row_with_its_hash_recomputed_breaks_the_next_link(
    published: tuple[Path, dict[str, Any]],
    shell: sqlite3.Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.execute("UPDATE audit_log SET actor = 'central:someone-else' WHERE seq = 2")
    row = shell.execute("SELECT * FROM audit_log WHERE seq = 2").fetchone()
    shell.execute("UPDATE audit_log SET hash = ? WHERE seq = 2", [documented_hash(row)])
    code, out, _ = verify(capsys, "--database", str(published[0]))
    assert (code, out.split(": ")[0:2]) == (
        1,
        ["audit chain broken at seq 3", "prev_hash_mismatch"],
    )


def test_a_deleted_row_is_named(
    published: tuple[Path, dict[str, Any]],
    shell: sqlite3.Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.execute("DELETE FROM audit_log WHERE seq = 3")
    code, out, _ = verify(capsys, "--database", str(published[0]))
    assert code == 1
    assert out.startswith("audit chain broken at seq 3: seq_gap: the row with this seq is missing")


def test_reordered_rows_are_named(
    published: tuple[Path, dict[str, Any]],
    shell: sqlite3.Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.execute("UPDATE audit_log SET seq = 1000 WHERE seq = 2")
    shell.execute("UPDATE audit_log SET seq = 2 WHERE seq = 3")
    shell.execute("UPDATE audit_log SET seq = 3 WHERE seq = 1000")
    code, out, _ = verify(capsys, "--database", str(published[0]))
    assert code == 1
    assert out.startswith("audit chain broken at seq 2: prev_hash_mismatch: ")


def test_a_rewritten_or_truncated_log_is_caught_by_the_head_of_the_retained_state(
    published: tuple[Path, dict[str, Any]],
    shell: sqlite3.Connection,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db_path, state = published
    last = state["audit_head"]["seq"]
    # The last row rewritten with a valid hash: the chain alone cannot tell.
    shell.execute("UPDATE audit_log SET actor = 'central:someone-else' WHERE seq = ?", [last])
    row = shell.execute("SELECT * FROM audit_log WHERE seq = ?", [last]).fetchone()
    shell.execute("UPDATE audit_log SET hash = ? WHERE seq = ?", [documented_hash(row), last])
    assert verify(capsys, "--database", str(db_path))[0] == 0
    code, out, _ = verify(
        capsys, "--database", str(db_path), "--state", state_file(tmp_path, state)
    )
    assert code == 1
    assert out.startswith(f"audit chain broken at seq {last}: anchor_mismatch: ")
    # A head from a state the file never had (wrong head) is refused the same way.
    wrong = f"{last}:{'0' * 64}"
    assert verify(capsys, "--database", str(db_path), "--head", wrong)[0] == 1
    shell.execute("DELETE FROM audit_log WHERE seq >= ?", [last - 1])
    code, out, _ = verify(
        capsys, "--database", str(db_path), "--state", state_file(tmp_path, state)
    )
    assert code == 1
    assert out.startswith(f"audit chain broken at seq {last}: anchor_missing: ")


def test_bad_input_is_a_usage_error_and_a_foreign_file_is_refused(
    published: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path, state = published
    for head in ("12", "x:" + "0" * 64, "3:ABC", f"-1:{'0' * 64}"):
        code, _, err = verify(capsys, "--database", str(db_path), f"--head={head}")
        assert code == 2 and "--head must be SEQ:HASH" in err, head
    no_head = state_file(tmp_path, {k: v for k, v in state.items() if k != "audit_head"})
    code, _, err = verify(capsys, "--database", str(db_path), "--state", no_head)
    assert code == 2 and "not a state message with audit_head" in err
    foreign = tmp_path / "other.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    code, _, err = verify(capsys, "--database", str(foreign))
    assert code == 1 and "foreign_database" in err
    code, _, err = verify(capsys, "--database", str(tmp_path / "missing.db"))
    assert code == 1 and "store_unavailable" in err
    assert not (tmp_path / "missing.db").exists()
