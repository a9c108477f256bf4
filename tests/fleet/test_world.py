"""The fleet test's verdict on what PostgreSQL holds (world.gap_free_report), on its own:
it must see every way of losing or doubling an event."""

from __future__ import annotations

from tests.fleet.world import gap_free_report


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
