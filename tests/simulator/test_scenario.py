"""Scenarios: validated whole before the first step, then run on time."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.layout import simple_layout

from .fake_context import FakeContext


@pytest.fixture
def ctx() -> FakeContext:
    return FakeContext(simple_layout())


GOOD = """
name = "pickup"
[[steps]]
at = 0.0
cmd = "force"
compartment = "A03"
[[steps]]
at = 0.5
cmd = "put"
compartment = "A03"
count = 2
[[steps]]
at = 1.25
cmd = "close"
compartment = "A03"
[[steps]]
at = 2
cmd = "take"
compartment = "A03"
"""


def test_a_scenario_runs_its_steps_on_time(ctx: FakeContext) -> None:
    reply = ctx({"cmd": "run", "scenario": GOOD})
    assert reply["ok"] and reply["scenario"] == "pickup"
    assert (reply["steps"], reply["failed"]) == (4, 1)  # take from a closed door fails
    results = reply["results"]
    assert isinstance(results, list)
    assert [r["at"] for r in results] == [0.0, 0.5, 1.25, 2.0]
    assert results[3]["error"]["code"] == "door_closed"
    assert ctx.t == pytest.approx(2.0)
    assert ctx.world.compartments["A03"].items == 2


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[steps]\n", "not valid TOML"),
        ('name = "x"\n', "steps: missing"),
        ("colour = 1\n[[steps]]\nat = 0\ncmd = 'status'\n", "colour: unknown key"),
        ("[[steps]]\ncmd = 'status'\n", "steps[0].at: must be seconds"),
        ("[[steps]]\nat = -1\ncmd = 'status'\n", "steps[0].at: must be seconds"),
        ("[[steps]]\nat = 1\ncmd = 'status'\n[[steps]]\nat = 0.5\ncmd = 'status'\n",
         "steps[1].at: 0.5 goes back in time"),
        ("[[steps]]\nat = 0\ncmd = 'opn'\n", "steps[0].cmd: unknown command 'opn'"),
        ("[[steps]]\nat = 0\ncmd = 'open'\ncompartment = 'Z99'\n",
         "steps[0].compartment: no compartment 'Z99'"),
        ("[[steps]]\nat = 0\ncmd = 'open'\n", "steps[0].compartment: missing"),
        ("[[steps]]\nat = 0\ncmd = 'offline'\nunit = 7\n", "no board answers to unit 7"),
        ("[[steps]]\nat = 0\ncmd = 'run'\nscenario = ''\n",
         "steps[0].cmd: 'run' cannot be a scenario step"),
    ],
)  # fmt: skip
def test_a_bad_scenario_is_refused_whole(ctx: FakeContext, text: str, words: str) -> None:
    reply = ctx({"cmd": "run", "scenario": text})
    assert reply["ok"] is False
    err = reply["error"]
    assert isinstance(err, dict) and err["code"] == "bad_scenario"
    assert words in err["message"]
    assert ctx.t == 0.0  # nothing ran


def test_the_shipped_example_scenario_is_valid(ctx: FakeContext) -> None:
    text = (Path(__file__).parents[2] / "examples" / "sim-scenario.toml").read_text()
    reply = ctx({"cmd": "run", "scenario": text})
    assert reply["ok"] and reply["failed"] == 0, reply
