"""`lockerd backup --config FILE DEST`: the database named by the configuration, copied online."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from locker_host.store import Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lockerd.toml"


def _lockerd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "locker_host.daemon", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_backup_copies_the_configured_database_and_refuses_to_overwrite(tmp_path: Path) -> None:
    config = tmp_path / "lockerd.toml"
    config.write_text(EXAMPLE.read_text().replace("/tmp/lockerd-example", str(tmp_path)))
    store = Store.open(tmp_path / "locker.db", now=datetime.now(UTC))  # open, as a daemon's is
    try:
        head = store.chain_head()
        done = _lockerd("backup", "--config", str(config), str(tmp_path / "copy.db"))
        assert done.returncode == 0, done.stderr
        assert "integrity ok" in done.stdout
        again = _lockerd("backup", "--config", str(config), str(tmp_path / "copy.db"))
        assert again.returncode == 1 and "never overwrites" in again.stderr
    finally:
        store.close()
    copy = Store.open(tmp_path / "copy.db", now=datetime.now(UTC))
    try:
        assert copy.chain_head() == head
    finally:
        copy.close()


def test_backup_of_a_missing_database_fails_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "lockerd.toml"
    config.write_text(EXAMPLE.read_text().replace("/tmp/lockerd-example", str(tmp_path)))
    done = _lockerd("backup", "--config", str(config), str(tmp_path / "copy.db"))
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == f"lockerd: backup failed (store_unavailable): no database at {tmp_path / 'locker.db'}"
    )
