"""Layouts: the default, flags, TOML files, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.layout import LayoutError, load_layout, parse_layout, simple_layout
from simulator.physics import Size

EXAMPLE = Path(__file__).parents[2] / "examples" / "sim-layout.toml"


def test_the_default_locker_is_two_reference_boards_of_24() -> None:
    layout = simple_layout()
    (bus,) = layout.buses
    assert [(b.family, b.unit, b.channels) for b in bus.boards] == [
        ("reference", 1, 24),
        ("reference", 2, 24),
    ]
    assert (bus.format.baud, bus.format.name, bus.turnaround) == (19200, "8E1", 0.001)
    ids = [c.id for c in layout.compartments]
    assert ids[:9] == ["A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "B01"]
    assert ids[-1] == "F08" and len(ids) == 48
    assert [c.size for c in layout.compartments[:8]] == [Size.S] * 3 + [Size.M] * 3 + [Size.L] * 2
    a03 = layout.compartments[2]
    assert (a03.lock.unit, a03.lock.channel, a03.door, a03.item) == (1, 3, None, None)
    assert layout.compartments[24].lock.unit == 2


def test_flags_layout_for_relay_modules_wires_doors_to_inputs() -> None:
    layout = simple_layout(boards=1, channels=8, family="relay", baud=9600, frame="8N1")
    comp = layout.compartments[0]
    assert comp.door == comp.lock and comp.item is None


def test_flags_for_several_buses_and_the_sizes_down_a_column() -> None:
    layout = simple_layout(buses=2, boards=1, channels=4, column_sizes="SML")
    assert [b.name for b in layout.buses] == ["bus0", "bus1"]
    assert [(c.id, c.size.value, c.bus) for c in layout.compartments] == [
        ("A01", "S", "bus0"),
        ("A02", "M", "bus0"),
        ("A03", "L", "bus0"),
        ("B01", "S", "bus0"),
        ("B02", "M", "bus1"),
        ("B03", "L", "bus1"),
        ("C01", "S", "bus1"),
        ("C02", "M", "bus1"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"buses": 0}, "--buses: 0 is outside 1..16"),
        ({"column_sizes": "SMX"}, "--sizes: 'SMX' must be 1..99 letters S, M or L"),
        ({"boards": 0}, "--boards: 0 is outside 1..247"),
        ({"channels": 60}, "--channels: 60 is outside 1..48"),
        ({"frame": "7X1"}, "--format: '7X1' is not one of"),
        ({"baud": 10}, "--baud: 10 is outside"),
        ({"family": "kerong"}, "--family: 'kerong' is not one of reference, relay, kerong_cu16"),
    ],
)
def test_flag_errors_name_the_flag(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(LayoutError, match=message.replace("(", r"\(")):
        simple_layout(**kwargs)  # type: ignore[arg-type]


def test_the_shipped_example_loads() -> None:
    layout = load_layout(EXAMPLE)
    assert [b.name for b in layout.buses] == ["main", "aux"]
    e01 = next(c for c in layout.compartments if c.id == "E01")
    assert e01.bus == "aux" and e01.door is not None and e01.item is not None
    assert e01.item.unit == 2  # wired across two modules
    assert layout.user.auto_open_after == 0.5


def bus(boards: str = "{ unit = 1 }", extra: str = "") -> str:
    return f"[[buses]]\n{extra}\nboards = [{boards}]\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("buses = 3", "buses: must be an array of tables, not int"),
        ("", "buses: missing"),
        (
            bus("{ unit = 1 }, { unit = 2 }, { unit = 300 }"),
            r"buses\[0\]\.boards\[2\]\.unit: 300 is outside 1\.\.247",
        ),
        (
            bus("{ unit = 1 }, { unit = 1 }"),
            r"buses\[0\]\.boards\[1\]\.unit: 1 is already used by buses\[0\]\.boards\[0\]",
        ),
        (bus("{ unit = 1, chanels = 4 }"), r"buses\[0\]\.boards\[0\]\.chanels: unknown key"),
        (bus('{ unit = "one" }'), r"buses\[0\]\.boards\[0\]\.unit: must be an integer, not 'one'"),
        (bus(extra="baud = 19200.5"), r"buses\[0\]\.baud: must be an integer"),
        (bus(extra='format = "8E2"'), r"buses\[0\]\.format: '8E2' is not one of"),
        (bus(extra="turnaround_ms = -1"), r"buses\[0\]\.turnaround_ms: -1 is outside"),
        (bus(extra='name = "a b"'), r"buses\[0\]\.name: 'a b' must be"),
        (bus(boards=""), r"buses\[0\]\.boards: a bus needs at least one board"),
        (bus(extra='name = "x"') * 2, r"buses\[1\]\.name: 'x' is used twice"),
        (
            'compartments = [{ id = "A1", lock = { unit = 1, channel = 1 } }]\n' + bus(),
            r"compartments\[0\]\.id: 'A1' is not a compartment id",
        ),
        (
            'compartments = [{ id = "A01", size = "XL", lock = { unit = 1, channel = 1 } }]\n'
            + bus(),
            r"compartments\[0\]\.size: 'XL' is not S, M or L",
        ),
        (
            'compartments = [{ id = "A01", lock = { unit = 9, channel = 1 } }]\n' + bus(),
            r"compartments\[0\]\.lock\.unit: no board has unit 9 on bus 'bus0'",
        ),
        (
            'compartments = [{ id = "A01", lock = { unit = 1, channel = 25 } }]\n' + bus(),
            r"compartments\[0\]\.lock\.channel: 25 is outside 1\.\.24",
        ),
        ('compartments = [{ id = "A01" }]\n' + bus(), r"compartments\[0\]\.lock: missing"),
        (
            'compartments = [{ id = "A01", bus = "x", lock = { unit = 1, channel = 1 } }]\n'
            + bus(),
            r"compartments\[0\]\.bus: no bus is named 'x'",
        ),
        (
            'compartments = [{ id = "A01", lock = { unit = 1, channel = 1 },'
            " door = { unit = 1, channel = 1 } }]\n" + bus(),
            r"compartments\[0\]\.door: a reference board reads it on the lock's channel",
        ),
        (
            'compartments = [{ id = "A01", lock = { unit = 1, channel = 1 } },'
            ' { id = "A02", lock = { unit = 1, channel = 1 } }]\n' + bus(),
            r"compartments\[1\]\.lock: unit 1 channel 1 is already wired to A01",
        ),
        (
            'compartments = [{ id = "A01", lock = { unit = 1, channel = 1 } },'
            ' { id = "A01", lock = { unit = 1, channel = 2 } }]\n' + bus(),
            r"compartments\[1\]\.id: 'A01' is used twice",
        ),
        ('[user]\nauto_open_after = "soon"\n' + bus(), r"user\.auto_open_after: must be a number"),
        ('colour = "red"\n' + bus(), r"colour: unknown key"),
    ],
)
def test_errors_name_the_key_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "layout.toml"
    path.write_text(text)
    with pytest.raises(LayoutError, match=message):
        load_layout(path)


def test_relay_inputs_must_be_on_relay_modules(tmp_path: Path) -> None:
    data = {
        "buses": [{"boards": [{"unit": 1}, {"unit": 2, "family": "relay"}]}],
        "compartments": [
            {"id": "A01", "lock": {"unit": 2, "channel": 1}, "door": {"unit": 1, "channel": 1}}
        ],
    }
    with pytest.raises(
        LayoutError, match=r"compartments\[0\]\.door\.unit: unit 1 is a reference board"
    ):
        parse_layout(data)


def test_malformed_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[buses]]\nbaud = = 9600\n")
    with pytest.raises(LayoutError) as info:
        load_layout(path)
    assert str(path) in str(info.value) and "line 2" in str(info.value)


def test_a_missing_file_is_a_layout_error(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="cannot read the layout"):
        load_layout(tmp_path / "nope.toml")
