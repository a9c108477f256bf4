"""Scenarios: a timed script of commands, for testers.

A scenario is TOML: an optional `name`, then `[[steps]]`, each with `at`
(seconds from the start, never going back) and a command with its arguments,
exactly as on the control channel:

    name = "citizen picks up from A03"
    [[steps]]
    at = 0.0
    cmd = "put"
    compartment = "A03"

The whole script is checked before the first step runs (`parse_scenario`),
with errors such as `steps[2].compartment: no compartment 'Z99'`. A step
that fails when it runs (a locked door, say) is reported and the script
goes on: a scenario is an experiment, not a transaction.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass

from .arguments import CommandError
from .commands import COMMANDS, validate
from .world import World

MAX_STEPS = 10_000
MAX_AT = 86_400.0


@dataclass(frozen=True, slots=True)
class Step:
    at: float
    request: dict[str, object]


def parse_scenario(text: str, world: World) -> tuple[str, list[Step]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CommandError("bad_scenario", f"not valid TOML: {exc}") from None
    for key in data:
        if key not in ("name", "steps"):
            raise CommandError("bad_scenario", f"{key}: unknown key (expected name, steps)")
    name = data.get("name", "scenario")
    if not isinstance(name, str):
        raise CommandError("bad_scenario", f"name: must be a string, not {name!r}")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise CommandError("bad_scenario", "steps: missing; add [[steps]] tables")
    if len(raw_steps) > MAX_STEPS:
        raise CommandError("bad_scenario", f"steps: {len(raw_steps)} steps, at most {MAX_STEPS}")
    steps: list[Step] = []
    last = 0.0
    for i, raw in enumerate(raw_steps):
        key = f"steps[{i}]"
        if not isinstance(raw, dict):
            raise CommandError("bad_scenario", f"{key}: must be a table")
        at = raw.get("at")
        if not isinstance(at, int | float) or isinstance(at, bool) or not 0 <= at <= MAX_AT:
            raise CommandError("bad_scenario", f"{key}.at: must be seconds in 0..{MAX_AT:g}")
        if at < last:
            raise CommandError("bad_scenario", f"{key}.at: {at} goes back in time (after {last})")
        last = float(at)
        request = {k: v for k, v in raw.items() if k != "at"}
        cmd = request.get("cmd")
        if isinstance(cmd, str) and cmd in COMMANDS and not COMMANDS[cmd].scriptable:
            raise CommandError("bad_scenario", f"{key}.cmd: {cmd!r} cannot be a scenario step")
        try:
            validate(cmd, request, world, key)
        except CommandError as exc:
            raise CommandError("bad_scenario", exc.message) from None
        steps.append(Step(float(at), request))
    return name, steps


def run_scenario(
    name: str,
    steps: list[Step],
    execute: Callable[[dict[str, object]], dict[str, object]],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> dict[str, object]:
    start = clock()
    results: list[dict[str, object]] = []
    for step in steps:
        wait = start + step.at - clock()
        if wait > 0:
            sleep(wait)
        reply = execute(step.request)
        results.append({"at": step.at, "cmd": step.request["cmd"], **reply})
    failed = sum(1 for r in results if not r["ok"])
    return {"scenario": name, "steps": len(results), "failed": failed, "results": results}
