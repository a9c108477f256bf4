"""Kerong buses in lockerd.toml: families, defaults, the CU48's missing item
sensor, a mixed site (a Modbus bus and a Kerong bus), and the keys' errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from locker_host.bus import KerongBoardConfig, SensorPolarity
from locker_host.daemon import ConfigError, load_config, parse_config, wiring_hash
from locker_host.domain import CompartmentId, Sensor

ROOT = Path(__file__).resolve().parents[2]
BASE = Path("/etc/lockerd")


def mixed(valid: dict[str, Any]) -> dict[str, Any]:
    """The valid configuration plus a Kerong bus: a CU16 at address 0, a CU48 at 1."""
    valid["buses"].append(
        {
            "name": "kerong",
            "port": "/dev/ttyUSB1",
            "boards": [
                {"family": "kerong_cu16", "unit": 0, "unlock_ms": 1000},
                {
                    "family": "kerong_cu48",
                    "unit": 1,
                    "channels": 24,
                    "polarity": {"hook_inverted": True},
                },
            ],
        }
    )
    valid["compartments"] += [
        {"id": "K01", "size": "S", "bus": "kerong", "unit": 0, "channel": 16},
        {"id": "K02", "size": "M", "bus": "kerong", "unit": 1, "channel": 24},
    ]
    return valid


def test_a_mixed_site_has_a_modbus_bus_and_a_kerong_bus(valid: dict[str, Any]) -> None:
    config = parse_config(mixed(valid), BASE)
    modbus, kerong = config.buses
    assert (modbus.line_protocol, modbus.format.name) == ("modbus", "8E1")
    assert (kerong.line_protocol, kerong.format.name, kerong.format.baud) == (
        "kerong",
        "8N1",
        19200,
    )
    cu16, cu48 = kerong.boards
    assert cu16 == KerongBoardConfig("kerong_cu16", 0, 16, 1000)
    assert cu48 == KerongBoardConfig("kerong_cu48", 1, 24, 500, SensorPolarity(door_inverted=True))
    layout = config.locker.layout
    # The hook switch is the door switch; only the CU16 has item sensors.
    assert layout.by_id[CompartmentId("K01")].sensors == {Sensor.DOOR_SWITCH, Sensor.ITEM_SENSOR}
    assert layout.by_id[CompartmentId("K02")].sensors == {Sensor.DOOR_SWITCH}
    assert layout.by_id[CompartmentId("K01")].wiring.board.address == 0


def test_the_wiring_hash_sees_a_kerong_board_change(valid: dict[str, Any]) -> None:
    config = parse_config(mixed(valid), BASE)
    before = wiring_hash(config.locker.layout, config.buses)
    valid["buses"][1]["boards"][1]["polarity"] = {}
    config = parse_config(valid, BASE)
    assert wiring_hash(config.locker.layout, config.buses) != before


@pytest.mark.parametrize(
    ("path", "value", "key", "problem"),
    [
        (("boards", 0, "unit"), 16, "buses[1].boards[0].unit", "outside 0..15"),  # CU16
        (("boards", 1, "unit"), 10, "buses[1].boards[1].unit", "outside 0..9"),  # CU48
        (("boards", 1, "channels"), 49, "buses[1].boards[1].channels", "outside 1..48"),
        (("boards", 0, "unlock_ms"), 50, "buses[1].boards[0].unlock_ms", "outside 100..24000"),
        (
            ("boards", 1, "polarity"),
            {"item_inverted": True},
            "buses[1].boards[1].polarity.item_inverted",
            "unknown key",
        ),
        (("boards", 0, "pulse_ms"), 300, "buses[1].boards[0].pulse_ms", "unknown key"),
    ],
)
def test_kerong_keys_name_their_errors(
    valid: dict[str, Any], path: tuple[Any, ...], value: object, key: str, problem: str
) -> None:
    config = mixed(valid)
    node: Any = config["buses"][1]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(ConfigError) as error:
        parse_config(config, BASE)
    assert error.value.key == key, str(error.value)
    assert problem in error.value.problem, str(error.value)


def test_a_bus_is_kerong_or_modbus(valid: dict[str, Any]) -> None:
    config = mixed(valid)
    config["buses"][1]["boards"].append({"family": "reference", "unit": 5, "channels": 8})
    with pytest.raises(ConfigError) as error:
        parse_config(config, BASE)
    assert error.value.key == "buses[1].boards" and "cannot share a bus" in error.value.problem


def test_a_cu48_compartment_cannot_declare_an_item_sensor(valid: dict[str, Any]) -> None:
    config = mixed(valid)
    config["compartments"][-1]["sensors"] = ["door_switch", "item_sensor"]
    with pytest.raises(ConfigError, match="kerong_cu48 unit 1 channel 24 does not wire one"):
        parse_config(config, BASE)


def test_unit_0_is_only_a_kerong_address(valid: dict[str, Any]) -> None:
    valid["compartments"][0]["unit"] = 0
    with pytest.raises(ConfigError, match="no board has unit 0 on bus0"):
        parse_config(valid, BASE)


def test_the_kerong_example_loads() -> None:
    config = load_config(ROOT / "examples" / "lockerd-kerong.toml")
    assert [b.line_protocol for b in config.buses] == ["modbus", "kerong"]
