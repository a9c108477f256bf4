"""Dispatch over the domain's unions is exhaustive (STYLE.md: ``match`` ends in ``assert_never``).

A command, observation or credential type that the dispatch does not know is
a type error (mypy, on a copy of the domain with one new member added to
each union) and, should it get past the type checker, an ``AssertionError``
at run time: never an empty successful decision, never a silent no-op.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from locker_host.domain import CompartmentId, decide, initial_state
from locker_host.domain.auth import actor_of
from locker_host.domain.decision import Tx
from locker_host.domain.locker import command_actor
from locker_host.domain.physical import observe

from .helpers import Harness

DOMAIN = Path(__file__).resolve().parents[2] / "locker_host" / "domain"


@dataclass(frozen=True)
class Stranger:
    """A command, or an observation, that nobody taught the domain."""

    compartment: CompartmentId


def test_an_unknown_command_raises_instead_of_deciding_nothing() -> None:
    h = Harness()
    unknown: Any = Stranger(CompartmentId("A01"))
    with pytest.raises(AssertionError):
        decide(h.config, initial_state(h.config), unknown, h.now)
    with pytest.raises(AssertionError):
        command_actor(unknown)


def test_an_unknown_observation_raises_instead_of_being_dropped() -> None:
    h = Harness()
    unknown: Any = Stranger(CompartmentId("A01"))
    with pytest.raises(AssertionError):
        decide(h.config, h.s, unknown, h.now)
    with pytest.raises(AssertionError):
        observe(Tx(h.config, h.s, h.now), unknown)


def test_an_unknown_credential_has_no_actor() -> None:
    unknown: Any = object()
    with pytest.raises(AssertionError):
        actor_of(unknown)


def _with_new_members(package: Path) -> None:
    """Add a member to the Command and the Observation unions, as a change would."""
    for module, union, member in (
        ("commands.py", "Command", "Repaint"),
        ("observations.py", "Observation", "LidLifted"),
    ):
        path = package / module
        text = path.read_text()
        text, count = re.subn(
            rf"^{union} = \(\n", f"{union} = (\n    {member}\n    | ", text, count=1, flags=re.M
        )
        assert count == 1, f"{module} no longer spells {union} as a parenthesised union"
        text += f"\n\n@dataclass(frozen=True)\nclass {member}:\n    compartment: CompartmentId\n"
        path.write_text(text)


def test_mypy_rejects_a_union_member_without_a_case(tmp_path: Path) -> None:
    package = tmp_path / "domain"
    shutil.copytree(DOMAIN, package, ignore=shutil.ignore_patterns("__pycache__"))
    _with_new_members(package)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--no-error-summary",
            "--config-file",
            "/dev/null",
            "domain",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = {
        (_enclosing_function(tmp_path / m["file"], int(m["line"])), m["type"])
        for m in re.finditer(
            r'^(?P<file>\S+?):(?P<line>\d+): error: Argument 1 to "assert_never" has '
            r'incompatible type "(?P<type>\w+)"',
            result.stdout,
            re.M,
        )
    }
    assert errors == {
        ("_handle", "Repaint"),
        ("command_actor", "Repaint"),
        ("observe", "LidLifted"),
    }, result.stdout


def _enclosing_function(path: Path, line: int) -> str:
    functions = [
        node
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef) and node.lineno <= line <= (node.end_lineno or 0)
    ]
    return max(functions, key=lambda f: f.lineno).name
