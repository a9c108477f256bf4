"""lockerd.toml: every validation error names its key; the example loads; cross-checks hold."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from locker_host.app import Keys
from locker_host.bus import RelayBoardConfig
from locker_host.daemon import ConfigError, load_config, parse_config, wiring_hash
from locker_host.daemon.runtime import check_keys
from locker_host.domain import CompartmentId, Keyring, Sensor
from locker_host.readers import SamConfig, SerialSettings, UsbSettings, staff_card_digests
from simulator.layout import simple_layout

ROOT = Path(__file__).resolve().parents[2]
BASE = Path("/etc/lockerd")

Change = Callable[[dict[str, Any]], object]


def _set(path: str, value: object) -> Change:
    """`path` like "buses.0.boards.1.unit": set it (None: delete it)."""

    def change(config: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = config
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if value is None:
            del node[int(last) if isinstance(node, list) else last]
        elif isinstance(node, list):
            if int(last) == len(node):
                node.append(value)
            else:
                node[int(last)] = value
        else:
            node[last] = value

    return change


ERRORS: list[tuple[str, Change, str, str]] = [
    # (case, change, key, part of the problem)
    ("site missing", _set("site", None), "site", "missing"),
    ("site not topic-safe", _set("site", "a/b"), "site", "does not match"),
    ("misspelt top key", _set("sight", "x"), "sight", "unknown key"),
    ("no buses", _set("buses", None), "buses", "missing"),
    ("empty buses", _set("buses", []), "buses", "at least one bus"),
    ("bus port missing", _set("buses.0.port", None), "buses[0].port", "missing"),
    ("bus baud text", _set("buses.0.baud", "fast"), "buses[0].baud", "must be an integer"),
    ("bus format", _set("buses.0.format", "9X9"), "buses[0].format", "is not one of"),
    ("poll interval", _set("buses.0.poll_interval", -1), "buses[0].poll_interval", "outside"),
    (
        "failures until offline (checked by the bus adapter)",
        _set("buses.0.failures_until_offline", 0),
        "buses[0].failures_until_offline",
        "at least 1",
    ),
    ("misspelt bus key", _set("buses.0.pollinterval", 1), "buses[0].pollinterval", "unknown"),
    ("board unit twice", _set("buses.0.boards.1.unit", 1), "buses[0].boards[1].unit", "already"),
    (
        "board channels",
        _set("buses.0.boards.0.channels", 60),
        "buses[0].boards[0].channels",
        "1..48",
    ),
    (
        "board family",
        _set("buses.0.boards.0.family", "kerong"),
        "buses[0].boards[0].family",
        "not one of",
    ),
    (
        "polarity not a boolean",
        _set("buses.0.boards.0.polarity", {"door_inverted": "yes"}),
        "buses[0].boards[0].polarity.door_inverted",
        "true or false",
    ),
    (
        "relay with channels and inputs",
        _set("buses.0.boards.2.channels", 4),
        "buses[0].boards[2].inputs",
        "not both",
    ),
    (
        "relay input on a reference board",
        _set("buses.0.boards.2.inputs.1", {"door": {"unit": 2, "input": 1}}),
        "buses[0].boards[2].inputs[1].door.unit",
        "is a reference board",
    ),
    (
        "second bus with the same name",
        _set(
            "buses.1",
            {"name": "bus0", "port": "/dev/ttyUSB9", "boards": [{"unit": 1, "channels": 8}]},
        ),
        "buses[1].name",
        "already buses[0]",
    ),
    (
        "channel beyond the board",
        _set("compartments.3.channel", 25),
        "compartments[3].channel",
        "25 is outside 1..24 for bus0 unit 1",
    ),
    (
        "two compartments on one channel",
        _set("compartments.1.channel", 1),
        "compartments[1].channel",
        "bus0 unit 1 channel 1 is already wired to A01 (compartments[0])",
    ),
    ("compartment id twice", _set("compartments.1.id", "A01"), "compartments[1].id", "already"),
    (
        "compartment id shape",
        _set("compartments.0.id", "a1"),
        "compartments[0].id",
        "does not match",
    ),
    ("compartment size", _set("compartments.0.size", "XL"), "compartments[0].size", "not one of"),
    (
        "compartment bus",
        _set("compartments.0.bus", "bus9"),
        "compartments[0].bus",
        "no bus is named",
    ),
    (
        "compartment board",
        _set("compartments.0.unit", 7),
        "compartments[0].unit",
        "no board has unit 7",
    ),
    (
        "compartment sensor name",
        _set("compartments.0.sensors", ["laser"]),
        "compartments[0].sensors",
        "not one of",
    ),
    (
        "sensor the relay board does not wire",
        _set("compartments.4.sensors", ["door_switch", "item_sensor"]),
        "compartments[4].sensors",
        "item_sensor is declared but relay board unit 3 channel 1 does not wire one",
    ),
    ("no compartments", _set("compartments", []), "compartments", "at least one"),
    (
        "misspelt compartment key",
        _set("compartments.0.colour", "red"),
        "compartments[0].colour",
        "unknown",
    ),
    ("department twice", _set("departments.1.id", "market"), "departments[1].id", "already"),
    (
        "department label",
        _set("departments.0.labels", {"zh": "市场"}),
        "departments[0].labels.en",
        "missing",
    ),
    (
        "service department",
        _set("services.0.department", "nowhere"),
        "services[0].department",
        "[[departments]]",
    ),
    ("service size", _set("services.0.size", "XXL"), "services[0].size", "not one of"),
    ("staff digest", _set("staff.0.card_digest", "xyz"), "staff[0].card_digest", "does not match"),
    ("staff role", _set("staff.0.role", "boss"), "staff[0].role", "not one of"),
    ("staff id twice", _set("staff.1.staff_id", "M-1"), "staff[1].staff_id", "already"),
    (
        "staff department",
        _set("staff.0.department", "moon"),
        "staff[0].department",
        "[[departments]]",
    ),
    ("reader kind", _set("readers.0.kind", "nfc"), "readers[0].kind", "not one of"),
    ("reader port", _set("readers.0.port", None), "readers[0].port", "missing"),
    ("reader port twice", _set("readers.1.port", "/dev/ttyUSB1"), "readers[1].port", "already"),
    ("reader transport", _set("readers.0.transport", "ble"), "readers[0].transport", "not one of"),
    (
        "staff pattern",
        _set("readers.1.staff_pattern", "("),
        "readers[1].staff_pattern",
        "regular expression",
    ),
    (
        "code lengths",
        _set("readers.1.bare_code_lengths", [4]),
        "readers[1].bare_code_lengths",
        "two whole",
    ),
    ("clashing prefixes", _set("readers.1.dropoff_prefix", "P"), "readers[1]", "must differ"),
    ("pulse", _set("policy.pulse_ms", 20), "policy.pulse_ms", "outside 50..10000"),
    ("misspelt policy", _set("policy.pulse", 20), "policy.pulse", "unknown"),
    (
        "timer zero",
        _set("timers.open_confirm_timeout_s", 0),
        "timers.open_confirm_timeout_s",
        "more than 0",
    ),
    ("reminders", _set("timers.reminder_offsets_s", [-1]), "timers.reminder_offsets_s", "> 0"),
    (
        "probability",
        _set("policy.code_max_guess_success", 1.0),
        "policy.code_max_guess_success",
        "between",
    ),
    (
        "housekeeping",
        _set("housekeeping.purge_interval_s", "hourly"),
        "housekeeping.purge_interval_s",
        "number",
    ),
    ("database path", _set("paths.database", None), "paths.database", "missing"),
    ("empty path", _set("paths.secrets", ""), "paths.secrets", "empty path"),
    ("log level", _set("log.level", "loud"), "log.level", "not one of"),
    ("event loop", _set("runtime.event_loop", "trio"), "runtime.event_loop", "not one of"),
    ("runtime key", _set("runtime.loop", "uvloop"), "runtime.loop", "unknown key"),
    (
        "arm timeout",
        _set("kiosk.dropoff_arm_timeout_s", 0),
        "kiosk.dropoff_arm_timeout_s",
        "more than 0",
    ),
    ("clock recheck", _set("clock.wall_recheck_s", 0), "clock.wall_recheck_s", "more than 0"),
    ("a table that is a string", _set("paths", "x"), "paths", "must be a table"),
]


@pytest.mark.parametrize(
    ("change", "key", "problem"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_every_error_names_its_key(
    valid: dict[str, Any], change: Change, key: str, problem: str
) -> None:
    change(valid)
    with pytest.raises(ConfigError) as error:
        parse_config(valid, BASE)
    assert error.value.key == key, str(error.value)
    assert problem in error.value.problem, str(error.value)
    assert str(error.value) == f"{key}: {error.value.problem}"


def test_a_valid_configuration_becomes_the_adapters_and_the_apps_values(
    valid: dict[str, Any],
) -> None:
    config = parse_config(valid, BASE)
    assert config.locker.site == "hh" and len(config.locker.layout.compartments) == 5
    (bus,) = config.buses
    assert bus.format.name == "8E1" and bus.poll_interval == 0.5  # the adapter's defaults
    relay = bus.boards[2]
    assert isinstance(relay, RelayBoardConfig) and relay.pulse_ms == 500
    a01 = config.locker.layout.by_id[CompartmentId("A01")]
    assert a01.sensors == {Sensor.DOOR_SWITCH, Sensor.ITEM_SENSOR}
    assert a01.height_mm == 1500 and a01.wiring.power_supply == "main"
    assert config.paths.database == BASE / "state/locker.db"  # relative to the file
    assert config.paths.admin_socket == Path("/run/lockerd/admin.sock")
    assert config.service("licence") is not None and config.service("nope") is None
    assert config.staff[0].key_version == 1 and config.staff[1].staff.role == "technician"
    assert [r.name for r in config.readers] == ["idcard", "scanner"]
    assert config.event_loop == "uvloop"  # [runtime] left out
    _set("runtime.event_loop", "asyncio")(valid)
    assert parse_config(valid, BASE).event_loop == "asyncio"


def _usb_reader(**keys: object) -> dict[str, object]:
    return {"kind": "sam", "name": "idcard", "transport": "usb", **keys}


def test_a_sam_reader_in_usb_mode(valid: dict[str, Any]) -> None:
    valid["readers"][0] = _usb_reader()
    (idcard, _) = parse_config(valid, BASE).readers
    assert isinstance(idcard.device, SamConfig)
    assert idcard.device.link == UsbSettings(0x0400, 0xC35A, None)
    valid["readers"][0] = _usb_reader(usb_id="1A86:e010", usb_port="1-1.4", read_timeout=2.5)
    (idcard, _) = parse_config(valid, BASE).readers
    assert isinstance(idcard.device, SamConfig)
    assert idcard.device.link == UsbSettings(0x1A86, 0xE010, "1-1.4")
    assert idcard.device.timing.read_timeout == 2.5
    # serial stays the default
    (serial, _) = parse_config(_without_transport(valid), BASE).readers
    assert isinstance(serial.device, SamConfig) and isinstance(serial.device.link, SerialSettings)


def _without_transport(config: dict[str, Any]) -> dict[str, Any]:
    config["readers"][0] = {"kind": "sam", "name": "idcard", "port": "/dev/ttyUSB7"}
    return config


@pytest.mark.parametrize(
    ("keys", "key", "problem"),
    [
        ({"usb_id": "0400-c35a"}, "readers[0].usb_id", "not VENDOR:PRODUCT in hex"),
        ({"usb_id": "400:c35a"}, "readers[0].usb_id", "not VENDOR:PRODUCT in hex"),
        ({"usb_port": "usb1"}, "readers[0].usb_port", "bus-port path"),
        ({"port": "/dev/ttyUSB0"}, "readers[0].port", "unknown key"),
        ({"baud": 9600}, "readers[0].baud", "unknown key"),
    ],
)
def test_usb_mode_errors_name_their_key(
    valid: dict[str, Any], keys: dict[str, object], key: str, problem: str
) -> None:
    valid["readers"][0] = _usb_reader(**keys)
    with pytest.raises(ConfigError) as error:
        parse_config(valid, BASE)
    assert error.value.key == key and problem in error.value.problem, str(error.value)


def test_two_usb_readers_must_be_told_apart(valid: dict[str, Any]) -> None:
    valid["readers"][1] = {**_usb_reader(), "name": "second"}
    valid["readers"][0] = _usb_reader()
    with pytest.raises(ConfigError) as error:
        parse_config(valid, BASE)
    assert error.value.key == "readers[1].port" and "already" in error.value.problem
    valid["readers"][0] = _usb_reader(usb_port="1-1.2")
    valid["readers"][1] = {**_usb_reader(usb_port="1-1.3"), "name": "second"}
    assert len(parse_config(valid, BASE).readers) == 2


def test_the_policy_takes_the_timers_and_keeps_defaults(valid: dict[str, Any]) -> None:
    valid["policy"] = {"pulse_ms": 300, "max_simultaneous_pulses": 3}
    valid["timers"] = {"open_confirm_timeout_s": 4, "reminder_offsets_s": [3600, 60]}
    policy = parse_config(valid, BASE).locker.policy
    assert (policy.pulse_ms, policy.max_simultaneous_pulses) == (300, 3)
    assert policy.open_confirm_timeout_s == 4.0 and policy.reminder_offsets_s == (3600.0, 60.0)
    assert policy.door_ajar_timeout_s == 120.0
    # a board without its own pulse_ms takes the policy's
    assert parse_config(valid, BASE).buses[0].boards[0].pulse_ms == 300


def test_the_example_configuration_matches_the_simulators_default_locker() -> None:
    config = load_config(ROOT / "examples" / "lockerd.toml")
    sim = simple_layout()
    ours = [
        (s.id, s.size.value, s.wiring.board.bus, s.wiring.board.address, s.wiring.channel)
        for s in config.locker.layout
    ]
    theirs = [(c.id, c.size.value, c.bus, c.lock.unit, c.lock.channel) for c in sim.compartments]
    assert ours == theirs
    (bus,) = config.buses
    (sim_bus,) = sim.buses
    assert (bus.name, bus.format) == (sim_bus.name, sim_bus.format)
    assert [(b.unit, b.channels) for b in bus.boards] == [
        (b.unit, b.channels) for b in sim_bus.boards
    ]


def test_the_example_staff_cards_are_the_documented_ones() -> None:
    config = load_config(ROOT / "examples" / "lockerd.toml")
    # The demo secrets, read without the file-mode check (git does not keep 0600).
    data = tomllib.loads((ROOT / "examples" / "lockerd-secrets.toml").read_text())
    staff = Keyring({1: bytes.fromhex(data["staff_keys"]["secrets"]["1"])}, 1)
    digests = {c.digest for c in config.staff}
    for card in ("0012345678", "0023456789", "0087654321"):
        assert staff_card_digests(staff, card)[0].digest in digests


def test_load_config_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("site = \n")
    with pytest.raises(ConfigError, match=r"broken\.toml is not valid TOML"):
        load_config(broken)


def test_the_secrets_file_must_have_what_the_configuration_needs(valid: dict[str, Any]) -> None:
    config = parse_config(valid, BASE)
    owner = Keyring({1: b"o" * 16}, 1)
    with pytest.raises(ConfigError) as no_staff_keys:
        check_keys(config, Keys(owner, owner))
    assert no_staff_keys.value.key == "staff"
    with pytest.raises(ConfigError) as wrong_version:
        check_keys(config, Keys(owner, owner, Keyring({2: b"s" * 16}, 2)))
    assert wrong_version.value.key == "staff[0].key_version"
    without_staff = parse_config({**valid, "staff": []}, BASE)
    with pytest.raises(ConfigError) as scanner:
        check_keys(without_staff, Keys(owner, owner))
    assert scanner.value.key == "readers[1]"
    check_keys(config, Keys(owner, owner, Keyring({1: b"s" * 16}, 1)))


def test_the_wiring_hash_follows_the_map_and_nothing_else(valid: dict[str, Any]) -> None:
    def hashed(config: dict[str, Any]) -> str:
        parsed = parse_config(config, BASE)
        return wiring_hash(parsed.locker.layout, parsed.buses)

    before = hashed(valid)
    assert hashed(valid) == before
    for harmless in (
        _set("buses.0.port", "/dev/serial/by-id/usb-other"),
        _set("buses.0.baud", 9600),
        _set("buses.0.poll_interval", 0.2),
        _set("compartments.0.size", "L"),
        _set("compartments.0.height_mm", 600),
        _set("policy", {"pulse_ms": 900}),
    ):
        copy = {
            **valid,
            "buses": [dict(valid["buses"][0])],
            "compartments": [dict(c) for c in valid["compartments"]],
        }
        harmless(copy)
        assert hashed(copy) == before
    for significant in (
        _set("compartments.0.channel", 9),
        _set("compartments.0.sensors", ["door_switch"]),
        _set("buses.0.boards.0.polarity", {"door_inverted": True}),
        _set("buses.0.boards.2.inputs.1", {"door": {"unit": 4, "input": 3}}),
    ):
        copy = {
            **valid,
            "buses": [
                {**valid["buses"][0], "boards": [dict(b) for b in valid["buses"][0]["boards"]]}
            ],
            "compartments": [dict(c) for c in valid["compartments"]],
        }
        copy["buses"][0]["boards"][2]["inputs"] = list(valid["buses"][0]["boards"][2]["inputs"])
        significant(copy)
        assert hashed(copy) != before


def test_the_configuration_values_are_frozen(valid: dict[str, Any]) -> None:
    config = parse_config(valid, BASE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.log_level = "debug"  # type: ignore[misc]
