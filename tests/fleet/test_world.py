"""The fleet test's verdict on what PostgreSQL holds (world.gap_free_report), on its own:
it must see every way of losing or doubling an event; and what it shows of a stuck
runner (world.own_stacks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.fleet.world import gap_free_report, own_stacks


def test_every_seq_once_is_clean() -> None:
    assert gap_free_report({"L1": 3, "L2": 0}, {"L1": (3, 3, 1, 3)}) == []


def test_a_missing_seq_is_reported() -> None:
    assert gap_free_report({"L1": 3}, {"L1": (2, 2, 1, 3)}) == [
        "L1: head 3, stored 2 rows, 2 seqs, 1..3"
    ]


def test_a_missing_tail_or_head_is_reported() -> None:
    assert gap_free_report({"L1": 3}, {"L1": (2, 2, 1, 2)})
    assert gap_free_report({"L1": 3}, {"L1": (2, 2, 2, 3)})


def test_a_locker_with_nothing_stored_is_reported() -> None:
    assert gap_free_report({"L1": 1}, {}) == ["L1: head 1, stored 0 rows, 0 seqs, 0..0"]


def test_a_seq_stored_twice_is_reported() -> None:
    assert gap_free_report({"L1": 2}, {"L1": (3, 2, 1, 2)})


def test_a_stuck_runner_shows_its_own_thread_and_its_log(tmp_path: Path) -> None:
    """What a failed wait prints: a real faulthandler dump (SIGUSR2, as the runner
    registers it: the thread the signal reached, the main one) in runner code, with the
    log lines around it."""
    script = tmp_path / "runner.py"
    script.write_text(
        "import faulthandler, os, signal, threading, time\n"
        "faulthandler.register(signal.SIGUSR2, all_threads=False)\n"
        "for _ in range(3):\n"
        "    threading.Thread(target=time.sleep, args=(2,), daemon=True).start()\n"
        "print('before the dump', flush=True)\n"
        "def stuck():\n"
        "    os.kill(os.getpid(), signal.SIGUSR2)\n"
        "    time.sleep(0.2)\n"
        "stuck()\n"
        "print('after the dump', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=30
    )
    log = (done.stdout + done.stderr).replace(str(script), "tests/fleet/runner.py")
    shown = own_stacks(log)
    assert "before the dump" in shown and "after the dump" in shown
    assert "in stuck" in shown
    assert shown.count("(most recent call first)") == 1  # not the sleeping threads
