"""Fuzz lockerd's configuration files: `lockerd.toml` (`load_config`) and the secrets file
(`load_keys`), from the shipped examples with keys dropped, values replaced by odd ones
(wrong types, out of range, huge, empty, unicode), tables added, and the text itself
mutated byte by byte.

Contract: a `DaemonConfig` (or `Keys`), or `ConfigError` (resp. `SecretsError`) naming
the key; nothing else escapes (no KeyError, TypeError, OverflowError, ...).
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from locker_host.app.errors import SecretsError
from locker_host.app.secrets import Keys, load_keys
from locker_host.daemon import ConfigError, DaemonConfig, load_config
from tests.e2e.toml_text import dumps

from .budget import fuzz
from .mutate import mutated

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = tomllib.loads((ROOT / "examples" / "lockerd.toml").read_text(encoding="utf-8"))
SECRETS_TEXT = (ROOT / "examples" / "lockerd-secrets.toml").read_bytes()

odd_values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),  # TOML has nan and inf, our writer does not
    st.text(max_size=40),
    st.sampled_from(["", "bus0", "A01", "../../etc/passwd", "-1", "0", "S", "XXL", "8E1", "9N9"]),
    st.lists(st.integers(-5, 50), max_size=4),
    st.builds(dict),  # fresh objects: a shared one would be mutated into a cycle
    st.builds(lambda: [{}]),
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    config = copy.deepcopy(EXAMPLE)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(paths(config)))
        node: Any = config
        for part in where[:-1]:
            node = node[part]
        last = where[-1]
        action = draw(st.sampled_from(["set", "set", "drop", "add"]))
        if action == "drop":
            del node[last]
        elif action == "add" and isinstance(node, dict):
            node[draw(st.text(min_size=1, max_size=10))] = copy.deepcopy(draw(odd_values))
        else:
            node[last] = copy.deepcopy(draw(odd_values))
    return config


def load(tmp_path: Path, text: bytes) -> DaemonConfig | None:
    path = tmp_path / "lockerd.toml"
    path.write_bytes(text)
    try:
        return load_config(path)
    except ConfigError as problem:
        assert str(problem)  # says what is wrong
        return None


@fuzz
@given(configs())
def test_a_changed_configuration_loads_or_names_the_key(tmp_path_factory, config) -> None:
    try:
        text = dumps(config).encode()
    except TypeError:
        return  # an empty list of tables our small writer cannot spell
    load(tmp_path_factory.mktemp("c"), text)


@fuzz
@given(st.data())
def test_a_mutated_configuration_text_loads_or_is_refused(tmp_path_factory, data) -> None:
    text = data.draw(mutated(dumps(EXAMPLE).encode()))
    load(tmp_path_factory.mktemp("t"), text)


@fuzz
@given(st.one_of(mutated(SECRETS_TEXT), st.binary(max_size=200)))
def test_a_mutated_secrets_file_loads_or_is_refused(tmp_path_factory, text) -> None:
    path = tmp_path_factory.mktemp("s") / "secrets.toml"
    path.write_bytes(text)
    path.chmod(0o600)
    try:
        assert isinstance(load_keys(path), Keys)
    except SecretsError as problem:
        assert problem.code.startswith("secrets_")
