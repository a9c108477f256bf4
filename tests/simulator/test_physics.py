"""The compartment's physics: what a person can and cannot do, and the signals."""

from __future__ import annotations

import pytest

from simulator.physics import (
    Compartment,
    PhysicsRefused,
    SensorFault,
    SensorMode,
    Size,
    UserBehaviour,
)


def make() -> Compartment:
    return Compartment("A07", Size.M)


def test_a_locked_door_does_not_open_and_the_refusal_names_the_compartment() -> None:
    comp = make()
    with pytest.raises(PhysicsRefused) as info:
        comp.open_door(0.0)
    assert info.value.code == "door_locked"
    assert info.value.compartment == "A07"
    assert "A07" in str(info.value)
    assert not comp.door_open


def test_a_released_door_opens_and_closes() -> None:
    comp = make()
    comp.drive(True, 0.0)
    comp.open_door(0.1)
    comp.drive(False, 0.5)  # the bolt returns, the door stays open
    assert comp.door_open
    comp.close_door(1.0)
    assert not comp.door_open
    assert comp.opens == 1


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("close_door", "door_already_closed"),
        ("put_item", "door_closed"),
        ("take_item", "door_closed"),
    ],
)
def test_refusals_on_a_closed_door(action: str, code: str) -> None:
    comp = make()
    with pytest.raises(PhysicsRefused) as info:
        getattr(comp, action)(0.0)
    assert info.value.code == code


def test_open_an_open_door_or_force_it_is_refused() -> None:
    comp = make()
    comp.force_door(0.0)
    for action in (comp.open_door, comp.force_door):
        with pytest.raises(PhysicsRefused) as info:
            action(0.1)
        assert info.value.code == "door_already_open"


def test_items_go_in_and_out_only_through_an_open_door() -> None:
    comp = make()
    comp.force_door(0.0)
    comp.put_item(0.1, 2)
    comp.take_item(0.2)
    assert comp.items == 1
    with pytest.raises(PhysicsRefused) as info:
        comp.take_item(0.3, 2)
    assert info.value.code == "no_item"
    with pytest.raises(PhysicsRefused) as info:
        comp.put_item(0.3, 0)
    assert info.value.code == "bad_count"


def test_forcing_opens_without_a_release() -> None:
    comp = make()
    comp.force_door(0.0)
    assert comp.door_open and comp.forced_opens == 1 and not comp.released


def test_a_jammed_lock_does_not_release() -> None:
    comp = make()
    comp.jam(0.0)
    comp.drive(True, 0.1)
    assert not comp.released and not comp.lock_released_signal
    with pytest.raises(PhysicsRefused) as info:
        comp.open_door(0.2)
    assert "jammed" in str(info.value)
    comp.unjam(0.3)
    assert comp.released
    comp.open_door(0.4)


def test_the_automatic_user_pulls_after_the_delay_while_released() -> None:
    comp = make()
    comp.set_user(UserBehaviour(auto_open_after=0.3, auto_close_after=1.0))
    comp.drive(True, 10.0)
    assert comp.next_deadline() == pytest.approx(10.3)
    comp.tick(10.2)
    assert not comp.door_open
    comp.tick(10.3)
    assert comp.door_open
    assert comp.next_deadline() == pytest.approx(11.3)
    comp.tick(11.3)
    assert not comp.door_open
    assert comp.next_deadline() is None  # one pull per release


def test_the_automatic_user_is_too_slow_for_a_short_pulse() -> None:
    comp = make()
    comp.set_user(UserBehaviour(auto_open_after=0.6))
    comp.drive(True, 0.0)
    comp.drive(False, 0.5)
    assert comp.next_deadline() is None
    comp.tick(1.0)
    assert not comp.door_open


def test_user_behaviour_rejects_negative_delays() -> None:
    with pytest.raises(ValueError, match="auto_open_after"):
        UserBehaviour(auto_open_after=-1)


def test_signals_and_their_edges() -> None:
    comp = make()
    assert comp.door_closed_signal and not comp.item_signal
    comp.force_door(0.0)
    comp.put_item(0.1)
    comp.close_door(0.2)
    assert (comp.door_edges, comp.item_edges) == (2, 1)


def test_sensor_faults_change_the_signal_not_the_truth() -> None:
    comp = make()
    comp.set_sensor("door", SensorFault(SensorMode.INVERTED))
    assert not comp.door_closed_signal and not comp.door_open
    assert comp.door_edges == 1  # the wire changed level
    comp.set_sensor("door", SensorFault(SensorMode.STUCK, stuck_reading=True))
    comp.force_door(0.0)
    assert comp.door_closed_signal and comp.door_open
    comp.set_sensor("item", SensorFault(SensorMode.STUCK, stuck_reading=True))
    assert comp.item_signal and comp.items == 0
    with pytest.raises(ValueError, match="sensor"):
        comp.set_sensor("lock", SensorFault())
