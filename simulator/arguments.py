"""Command arguments: what each command accepts, checked before it runs.

Errors name the argument and, inside a scenario, the step:
`steps[2].compartment: no compartment 'Z99'`. Existence is checked here too
(a compartment, a bus, a board answering to a unit), against the world as it
is when the command is checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from protocol.families import unit_span

from .line import BoardSlot
from .world import World


class CommandError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Param:
    kind: str  # text, count, int, rate, seconds, maybe_seconds, choice, compartment, unit, bus
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()


class Args:
    """Checked arguments; the getters trust `check_args`."""

    def __init__(self, values: dict[str, object], given: set[str]) -> None:
        self.values = values
        self.given = given  # the names the request spelled out (maybe as null)

    def has(self, name: str) -> bool:
        return self.values.get(name) is not None

    def text(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str)
        return value

    def integer(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int)
        return value

    def number(self, name: str) -> float:
        value = self.values[name]
        assert isinstance(value, int | float)
        return float(value)

    def maybe_number(self, name: str) -> float | None:
        return None if self.values.get(name) is None else self.number(name)


def check_args(
    name: str, params: Mapping[str, Param], raw: Mapping[str, object], world: World, key: str = ""
) -> Args:
    where = f"{key}." if key else ""
    for arg in raw:
        if arg not in params and arg != "cmd":
            allowed = ", ".join(params) or "no arguments"
            raise CommandError("bad_argument", f"{where}{arg}: {name} takes {allowed}")
    values: dict[str, object] = {}
    for arg, param in params.items():
        value = raw.get(arg)
        if value is None:
            if param.required:
                raise CommandError("bad_argument", f"{where}{arg}: missing ({name} needs it)")
            values[arg] = param.default
            continue
        values[arg] = _check(param, value, f"{where}{arg}", world)
    args = Args(values, {arg for arg in raw if arg in params})
    if args.has("unit"):
        board_of(world, args)  # exists?
    return args


def _check(param: Param, value: object, key: str, world: World) -> object:
    def bad(problem: str) -> CommandError:
        return CommandError("bad_argument", f"{key}: {problem}")

    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    match param.kind:
        case "text":
            if not isinstance(value, str):
                raise bad(f"must be a string, not {value!r}")
        case "count" | "int" | "unit":
            span = unit_span()  # a board of any family
            bounds = {"count": (1, 1000), "int": (0, 2**31), "unit": (span.low, span.high)}
            lo, hi = bounds[param.kind]
            if not is_int:
                raise bad(f"must be an integer, not {value!r}")
            assert isinstance(value, int)
            if not lo <= value <= hi:
                raise bad(f"{value} is outside {lo}..{hi}")
        case "rate" | "seconds" | "maybe_seconds":
            top = 1.0 if param.kind == "rate" else 3600.0
            if not is_number:
                raise bad(f"must be a number, not {value!r}")
            assert isinstance(value, int | float)
            if not 0 <= value <= top:
                raise bad(f"{value} is outside 0..{top:g}")
        case "choice":
            if value not in param.choices:
                raise bad(f"{value!r} is not one of {', '.join(param.choices)}")
        case "compartment":
            if not isinstance(value, str):
                raise bad(f"must be a compartment id such as A07, not {value!r}")
            value = value.strip().upper()
            if value not in world.compartments:
                raise CommandError("unknown_compartment", f"{key}: no compartment {value!r}")
        case "bus":
            if value not in world.lines:
                known = ", ".join(world.lines)
                raise CommandError("unknown_bus", f"{key}: no bus {value!r} (buses: {known})")
    return value


def board_of(world: World, args: Args) -> tuple[str, BoardSlot]:
    unit = args.integer("unit")
    bus = args.text("bus") if args.has("bus") else None
    found = world.find_board(unit, bus)
    if found is None:
        units = sorted({s.board.unit for line in world.lines.values() for s in line.slots})
        where = f" on bus {bus!r}" if bus else ""
        raise CommandError(
            "unknown_board",
            f"unit: no board answers to unit {unit}{where} (units: {', '.join(map(str, units))})",
        )
    return found
