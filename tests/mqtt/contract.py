"""The contract in docs/asyncapi, loaded for tests: the AsyncAPI document and its JSON Schemas.

``Contract.check_published(topic, payload)`` validates whatever a locker
publishes, chosen by topic; violations are collected, not raised, because
they are found on the receiving client's callback path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from mqtt_bridge import parse_locker_topic

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_DIR = ROOT / "docs" / "asyncapi"
DOCUMENT = ASYNCAPI_DIR / "lockers.asyncapi.json"
SCHEMAS = ASYNCAPI_DIR / "schemas"


def load_schemas() -> dict[str, dict[str, Any]]:
    """Relative path (``status.json``, ``commands/open.json``) -> schema."""
    return {
        path.relative_to(SCHEMAS).as_posix(): json.loads(path.read_text())
        for path in sorted(SCHEMAS.rglob("*.json"))
    }


@dataclass
class Contract:
    schemas: dict[str, dict[str, Any]] = field(default_factory=load_schemas)
    violations: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @cached_property
    def registry(self) -> Registry:
        resources = [
            (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7))
            for schema in self.schemas.values()
        ]
        return Registry().with_resources(resources)

    def validator(self, name: str) -> Draft7Validator:
        return Draft7Validator(self.schemas[name], registry=self.registry)

    def errors(self, name: str, instance: Any) -> list[str]:
        return [
            f"{name} at /{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in self.validator(name).iter_errors(instance)
        ]

    def schema_for(self, topic: str) -> str | None:
        """Which schema a message the locker publishes on ``topic`` must follow."""
        parsed = parse_locker_topic(topic)
        if parsed is None:
            return None
        rest = parsed.rest
        if rest in {"status", "state"}:
            return f"{rest}.json"
        if rest == "events":
            return "event.json"
        if rest == "reply" or rest.startswith("reply/"):
            return "reply.json"
        parts = rest.split("/")
        if len(parts) == 4 and parts[0] == "board" and parts[3] == "status":
            return "board-status.json"
        return None  # commands and acks: the centre's messages

    def check_published(self, topic: str, payload: bytes) -> None:
        name = self.schema_for(topic)
        if name is None:
            return
        if not payload and name == "board-status.json":
            return  # a cleared retained message: the board left the layout
        try:
            instance = json.loads(payload)
        except ValueError:
            self.violations.append(f"{topic}: not JSON: {payload[:80]!r}")
            return
        self.checked[name] = self.checked.get(name, 0) + 1
        self.violations += [f"{topic}: {problem}" for problem in self.errors(name, instance)]
