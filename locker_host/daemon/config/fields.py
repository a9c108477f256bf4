"""Reading a parsed TOML document key by key, with errors that name the key.

``ConfigError("compartments[3].channel", "25 is outside 1..24 for bus0 unit 1")``
prints as ``compartments[3].channel: 25 is outside 1..24 for bus0 unit 1``, so
an installer can fix the file without reading this code. A ``Table`` hands out
its values one by one and ``finish()`` refuses whatever key nobody asked for:
a misspelt key (``pollinterval``) is an error, not a silently ignored line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final


class ConfigError(ValueError):
    code = "bad_config"

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


class Table:
    def __init__(self, data: object, key: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(key, f"must be a table, not {_kind(data)}")
        self.key = key
        self._data: Mapping[str, object] = data
        self._read: set[str] = set()

    def where(self, name: str) -> str:
        return join(self.key, name)

    def has(self, name: str) -> bool:
        return name in self._data

    def finish(self) -> None:
        unknown = [name for name in self._data if name not in self._read]
        if unknown:
            expected = ", ".join(sorted(self._read)) or "none"
            raise ConfigError(self.where(unknown[0]), f"unknown key (expected one of {expected})")

    def _get(self, name: str, default: object) -> object:
        self._read.add(name)
        value = self._data.get(name, default)
        if value is MISSING:
            raise ConfigError(self.where(name), "missing")
        return value

    # -- scalars ----------------------------------------------------------------------

    def text(
        self,
        name: str,
        default: str | _Missing = MISSING,
        *,
        pattern: str | None = None,
        choices: tuple[str, ...] = (),
    ) -> str:
        value = self._get(name, default)
        if not isinstance(value, str):
            raise ConfigError(self.where(name), f"must be a string, not {_kind(value)}")
        if choices and value not in choices:
            raise ConfigError(self.where(name), f"{value!r} is not one of {', '.join(choices)}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise ConfigError(self.where(name), f"{value!r} does not match {pattern}")
        return value

    def optional_text(self, name: str, *, pattern: str | None = None) -> str | None:
        if self._data.get(name) is None:
            self._read.add(name)
            return None
        return self.text(name, pattern=pattern)

    def integer(
        self,
        name: str,
        default: int | _Missing = MISSING,
        *,
        lo: int | None = None,
        hi: int | None = None,
    ) -> int:
        """An integer within ``lo..hi`` (None: the caller checks that bound itself)."""
        value = self._get(name, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(self.where(name), f"must be an integer, not {_kind(value)}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ConfigError(self.where(name), f"{value} is outside {lo}..{hi}")
        return value

    def number(
        self, name: str, default: float | _Missing = MISSING, *, lo: float, hi: float
    ) -> float:
        """A number of seconds, milliseconds, ...: ``lo`` and ``hi`` inclusive."""
        value = self._get(name, default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(self.where(name), f"must be a number, not {_kind(value)}")
        if not lo <= value <= hi:
            raise ConfigError(self.where(name), f"{value} is outside {lo:g}..{hi:g}")
        return float(value)

    def positive(self, name: str, default: float | _Missing = MISSING, *, hi: float) -> float:
        value = self.number(name, default, lo=0.0, hi=hi)
        if value <= 0:
            raise ConfigError(self.where(name), "must be more than 0")
        return value

    def optional_positive(self, name: str, *, hi: float) -> float | None:
        if self._data.get(name) is None:
            self._read.add(name)
            return None
        return self.positive(name, hi=hi)

    def boolean(self, name: str, default: bool | _Missing = MISSING) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(self.where(name), f"must be true or false, not {_kind(value)}")
        return value

    def path(self, name: str, base: Path, default: str | _Missing = MISSING) -> Path:
        """A file path; a relative one is relative to the configuration file's directory."""
        raw = self.text(name, default)
        if not raw:
            raise ConfigError(self.where(name), "an empty path")
        path = Path(raw).expanduser()
        return path if path.is_absolute() else base / path

    # -- collections -------------------------------------------------------------------

    def table(self, name: str) -> Table:
        """A sub-table; an empty one when the key is absent."""
        return Table(self._get(name, {}), self.where(name))

    def tables(self, name: str, *, required: bool = False) -> list[Table]:
        value = self._get(name, MISSING if required else [])
        if not isinstance(value, list):
            raise ConfigError(self.where(name), f"must be an array of tables, not {_kind(value)}")
        return [Table(item, f"{self.where(name)}[{i}]") for i, item in enumerate(value)]

    def strings(self, name: str, default: tuple[str, ...] | _Missing = MISSING) -> tuple[str, ...]:
        value = self._get(name, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(self.where(name), f"must be an array of strings, not {_kind(value)}")
        return tuple(value)

    def numbers(
        self, name: str, default: tuple[float, ...] | _Missing = MISSING
    ) -> tuple[float, ...]:
        value = self._get(name, default)
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        ):
            raise ConfigError(self.where(name), f"must be an array of numbers, not {_kind(value)}")
        return tuple(float(v) for v in value)


def unique(values: list[str], key: str, name: str) -> None:
    """``key[i].name`` must differ from every earlier one."""
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            raise ConfigError(f"{key}[{i}].{name}", f"{value!r} is already {key}[{seen[value]}]")
        seen[value] = i


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return repr(value)
