"""The reconnect plan (mqtt_bridge/reconnect.py): which broker next, the jittered back-off
with its cap, and the takeover watch, driven with a given clock and random source."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mqtt_bridge import Broker
from mqtt_bridge.reconnect import TAKEN_OVER, Reconnects

A, B, C = Broker("a", 1883), Broker("b", 1883), Broker("c", 1884)


def plan(*brokers: Broker, draws: Iterator[float] | None = None, **kw: float) -> Reconnects:
    source = draws or iter(lambda: 1.0, None)  # 1.0: the top of the jitter range
    settings = {
        "min_s": 1.0,
        "max_s": 60.0,
        "takeover_window_s": 10.0,
        "takeover_threshold": 3,
        "takeover_backoff_s": 300.0,
    }
    settings.update(kw)
    return Reconnects(brokers or (A,), random=lambda: next(source), **settings)  # type: ignore[arg-type]


def test_failed_attempts_go_round_the_list_doubling_each_round_up_to_the_cap() -> None:
    reconnects = plan(A, B, C)
    assert reconnects.broker == A  # the first connection
    attempts = [reconnects.next_attempt() for _ in range(24)]
    assert [a.broker for a in attempts[:6]] == [B, C, A, B, C, A]
    ceilings = [a.wait_s for a in attempts]
    assert ceilings[:9] == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 4.0, 4.0, 4.0]
    assert max(ceilings) == 60.0 and ceilings[-1] == 60.0


def test_the_wait_is_jittered_between_half_the_ceiling_and_the_ceiling() -> None:
    draws = iter([0.0, 0.5, 0.999])
    reconnects = plan(A, draws=draws, min_s=4.0)
    assert [reconnects.next_attempt().wait_s for _ in range(3)] == pytest.approx(
        [2.0, 6.0, 15.992]  # ceilings 4, 8, 16
    )


def test_a_lost_connection_tries_the_same_broker_first_and_a_connection_resets() -> None:
    reconnects = plan(A, B)
    for _ in range(5):
        reconnects.next_attempt()
    assert reconnects.broker == B
    reconnects.connected(100.0)
    reconnects.disconnected(500.0, reason="Unspecified error", asked=False)
    again = reconnects.next_attempt()
    assert (again.broker, again.wait_s) == (B, 1.0)
    failed = reconnects.next_attempt()
    assert (failed.broker, failed.wait_s) == (A, 1.0)


def test_connections_taken_over_again_and_again_raise_the_conflict_and_back_off() -> None:
    reconnects = plan(A)
    now = 0.0
    for _ in range(3):
        assert not reconnects.in_conflict(now)
        reconnects.connected(now)
        now += 1.5  # taken over soon after connecting
        reconnects.disconnected(now, reason="Unspecified error", asked=False)
        reconnects.next_attempt()
    assert reconnects.in_conflict(now) and reconnects.takeovers == 3
    assert reconnects.next_attempt().wait_s == 300.0
    # Connected and left alone for twice the back-off: the other holder is gone.
    reconnects.connected(now)
    assert reconnects.in_conflict(now + 599.0)
    assert not reconnects.in_conflict(now + 600.0)
    assert reconnects.next_attempt().wait_s == 1.0


def test_mqtt5_says_taken_over_however_long_the_connection_lived() -> None:
    reconnects = plan(A, takeover_threshold=2)
    for start in (0.0, 1_000.0):
        reconnects.connected(start)
        reconnects.disconnected(start + 500.0, reason=TAKEN_OVER, asked=False)
    assert reconnects.in_conflict(2_000.0)


def test_our_own_disconnects_and_long_connections_are_not_signs() -> None:
    reconnects = plan(A)
    for start in (0.0, 10.0, 20.0):
        reconnects.connected(start)
        reconnects.disconnected(start + 1.0, reason="Normal disconnection", asked=True)
    reconnects.connected(30.0)
    reconnects.disconnected(31.0, reason="Unspecified error", asked=False)
    reconnects.connected(40.0)
    reconnects.disconnected(400.0, reason="Unspecified error", asked=False)  # lived long
    reconnects.connected(500.0)
    reconnects.disconnected(501.0, reason="Unspecified error", asked=False)
    assert not reconnects.in_conflict(600.0)
    assert reconnects.takeovers == 2
