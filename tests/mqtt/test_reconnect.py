"""The reconnect plan (mqtt_bridge/reconnect.py): which broker next, the jittered back-off
with its cap, and the takeover watch, driven with a given clock and random source."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mqtt_bridge import Broker
from mqtt_bridge.reconnect import CLOSED_BY_BROKER, LOOP_SIGNS, TAKEN_OVER, Reconnects

A, B, C = Broker("a", 1883), Broker("b", 1883), Broker("c", 1884)


def plan(*brokers: Broker, draws: Iterator[float] | None = None, **kw: float) -> Reconnects:
    source = draws or iter(lambda: 1.0, None)  # 1.0: the top of the jitter range
    settings = {"min_s": 1.0, "max_s": 60.0, "takeover_backoff_s": 300.0}
    settings.update(kw)
    return Reconnects(brokers or (A,), random=lambda: next(source), **settings)


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
    reconnects.disconnected(500.0, reason="Unspecified error")
    again = reconnects.next_attempt()
    assert (again.broker, again.wait_s) == (B, 1.0)
    failed = reconnects.next_attempt()
    assert (failed.broker, failed.wait_s) == (A, 1.0)


def test_a_takeover_raises_the_conflict_and_backs_off_until_left_alone() -> None:
    reconnects = plan(A)
    reconnects.connected(0.0)
    assert not reconnects.in_conflict(1.0)
    reconnects.taken_over(1.0)  # a status from a boot that is not ours
    assert reconnects.in_conflict(1.0) and reconnects.takeovers == 1
    reconnects.disconnected(2.0, reason="Unspecified error")
    assert reconnects.next_attempt().wait_s == 300.0
    # Connected and left alone for twice the back-off: the other holder is gone.
    reconnects.connected(400.0)
    assert reconnects.in_conflict(999.0)
    assert not reconnects.in_conflict(1_000.0)
    reconnects.disconnected(1_001.0, reason="Unspecified error")
    assert reconnects.next_attempt().wait_s == 1.0


def test_the_reason_session_taken_over_is_a_sign() -> None:
    reconnects = plan(A)
    reconnects.connected(0.0)
    reconnects.disconnected(500.0, reason=TAKEN_OVER)
    assert reconnects.in_conflict(500.0) and reconnects.takeovers == 1


def test_connections_reset_at_once_are_no_sign() -> None:
    # A flapping path resets every connection within seconds (tests/reliability breaks
    # links this way) or lets it time out: neither is a broker ending our session.
    reconnects = plan(A)
    for start in (0.0, 10.0, 20.0, 30.0):
        reconnects.connected(start)
        assert reconnects.disconnected(start + 1.0, reason="Unspecified error") is None
        assert reconnects.next_attempt().wait_s == 1.0
    for start in (40.0, 80.0, 120.0, 160.0):
        reconnects.connected(start)
        assert reconnects.disconnected(start + 2.0, reason="Keep alive timeout") is None
        reconnects.next_attempt()
    assert not reconnects.in_conflict(200.0) and reconnects.takeovers == 0


def closed_soon(reconnects: Reconnects, start: float, after_s: float = 1.0) -> str | None:
    reconnects.connected(start)
    sign = reconnects.disconnected(start + after_s, reason=CLOSED_BY_BROKER)
    reconnects.next_attempt()  # the same broker again, at once: it is there
    return sign


def test_the_takeover_loop_is_a_sign() -> None:
    # A clone on a broker cluster: each holder's connections are accepted and then
    # closed by the broker a second or so later, when the other one connects.
    reconnects = plan(A, B)
    signs = [closed_soon(reconnects, 2.0 * n) for n in range(LOOP_SIGNS)]
    assert signs[:-1] == [None] * (LOOP_SIGNS - 1)
    assert (
        signs[-1]
        == f"the broker closed {LOOP_SIGNS} connections in a row within 5 s of accepting them"
    )
    assert reconnects.in_conflict(10.0) and reconnects.takeovers == 1
    assert reconnects.broker == A  # lost connections: the same broker, but slowly now
    reconnects.connected(11.0)
    assert reconnects.disconnected(12.0, reason=CLOSED_BY_BROKER) is not None  # and on
    assert reconnects.next_attempt().wait_s == 300.0
    assert reconnects.takeovers == 2


@pytest.mark.parametrize("between", ["failed attempt", "long connection", "reset"])
def test_the_loop_must_be_unbroken(between: str) -> None:
    reconnects = plan(A, B)
    for r in range(3):
        for n in range(LOOP_SIGNS - 1):
            assert closed_soon(reconnects, 100.0 * r + 2.0 * n) is None
        match between:
            case "failed attempt":  # a broker that refuses or is gone: restarts, not a loop
                reconnects.next_attempt()
            case "long connection":  # not the other holder's way back: no sign
                assert closed_soon(reconnects, 100.0 * r + 50.0, after_s=5.0) is None
            case "reset":
                reconnects.connected(100.0 * r + 60.0)
                reconnects.disconnected(100.0 * r + 61.0, reason="Unspecified error")
                reconnects.next_attempt()
    assert not reconnects.in_conflict(400.0) and reconnects.takeovers == 0
