"""Reading a parsed TOML document with errors that name the key.

`LayoutError("buses[0].boards[2].unit", "300 is outside 1..247")` prints as
`buses[0].boards[2].unit: 300 is outside 1..247`; the helpers below raise
it for a missing key, a wrong type, a value out of range or an unknown key.
"""

from __future__ import annotations

from collections.abc import Mapping


class LayoutError(ValueError):
    code = "bad_layout"

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem


def join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def as_table(raw: object, key: str) -> Mapping[str, object]:
    if not isinstance(raw, Mapping):
        raise LayoutError(key, f"must be a table, not {type(raw).__name__}")
    return raw


def keys(table: Mapping[str, object], key: str, allowed: set[str]) -> None:
    for name in table:
        if name not in allowed:
            raise LayoutError(
                join(key, name), f"unknown key (expected one of {', '.join(sorted(allowed))})"
            )


def list_of(table: Mapping[str, object], name: str, key: str, *, required: bool) -> list[object]:
    raw = table.get(name)
    if raw is None:
        if required:
            raise LayoutError(join(key, name), "missing")
        return []
    if not isinstance(raw, list):
        raise LayoutError(join(key, name), f"must be an array of tables, not {type(raw).__name__}")
    return raw


_MISSING = object()


def string(table: Mapping[str, object], name: str, key: str, default: object = _MISSING) -> str:
    raw = table.get(name, default)
    if raw is _MISSING:
        raise LayoutError(join(key, name), "missing")
    if not isinstance(raw, str):
        raise LayoutError(join(key, name), f"must be a string, not {raw!r}")
    return raw


def whole(
    table: Mapping[str, object],
    name: str,
    key: str,
    *,
    lo: int,
    hi: int,
    default: object = _MISSING,
) -> int:
    raw = table.get(name, default)
    if raw is _MISSING:
        raise LayoutError(join(key, name), "missing")
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise LayoutError(join(key, name), f"must be an integer, not {raw!r}")
    if not lo <= raw <= hi:
        raise LayoutError(join(key, name), f"{raw} is outside {lo}..{hi}")
    return raw


def number(
    table: Mapping[str, object], name: str, key: str, *, lo: float, hi: float, default: float | None
) -> float | None:
    raw = table.get(name, default)
    if raw is None:
        return None
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        raise LayoutError(join(key, name), f"must be a number, not {raw!r}")
    if not lo <= raw <= hi:
        raise LayoutError(join(key, name), f"{raw} is outside {lo}..{hi}")
    return float(raw)


def unique(values: list[str], key: str, name: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise LayoutError(f"{key}[{i}].{name}", f"{value!r} is used twice")
        seen.add(value)
