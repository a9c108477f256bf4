"""The AsyncAPI document and its JSON Schemas against themselves and against the code.

Every example in the document validates against its message's schema; every
command example is also accepted by the code that parses commands (so schema
and parser agree on at least one real payload each); the command channels
are exactly the commands the locker knows; the event schema names exactly
the domain's event types and their fields. Messages the bridge really
publishes are validated in the other test files (the ``contract`` fixture).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from locker_host.app import COMMANDS, parse_command
from locker_host.daemon.mqtt_link import ServicePort
from locker_host.domain.events import EVENT_TYPES
from mqtt_bridge import CONTROL_COMMANDS
from mqtt_bridge.control import ControlRequest, parse_control

from .contract import ASYNCAPI_DIR, DOCUMENT, Contract

DOC: dict[str, Any] = json.loads(DOCUMENT.read_text())
MESSAGES: dict[str, Any] = DOC["components"]["messages"]


def schema_name(message: dict[str, Any]) -> str:
    return str(message["payload"]["$ref"]).removeprefix("./schemas/")


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def pointer(document: Any, path: str) -> Any:
    for token in path.lstrip("/").split("/"):
        if token:
            document = document[token.replace("~1", "/").replace("~0", "~")]
    return document


def test_every_reference_in_the_document_resolves() -> None:
    for ref in refs(DOC):
        target, _, fragment = ref.partition("#")
        document = DOC if not target else json.loads((ASYNCAPI_DIR / target).read_text())
        assert pointer(document, fragment) is not None, ref


def test_every_reference_in_the_schemas_resolves() -> None:
    contract = Contract()
    for name, schema in contract.schemas.items():
        contract.validator(name).check_schema(schema)
        resolver = contract.registry.resolver(base_uri=schema["$id"])
        for ref in refs(schema):
            resolver.lookup(ref)  # raises Unresolvable


@pytest.mark.parametrize("message_id", sorted(MESSAGES))
def test_examples_follow_their_schema(message_id: str) -> None:
    message = MESSAGES[message_id]
    assert message["examples"], f"{message_id} has no example"
    contract = Contract()
    for example in message["examples"]:
        assert contract.errors(schema_name(message), example["payload"]) == [], example["name"]


def test_command_channels_are_exactly_the_known_commands() -> None:
    addresses = {
        channel["address"].rsplit("/", 1)[1]
        for channel in DOC["channels"].values()
        if channel["address"] and "/cmd/" in channel["address"]
    }
    assert addresses == set(COMMANDS) | CONTROL_COMMANDS


@pytest.mark.parametrize("name", sorted(set(COMMANDS) | CONTROL_COMMANDS))
def test_command_examples_are_accepted_by_the_parser(name: str) -> None:
    (example,) = MESSAGES[f"cmd_{name}"]["examples"]
    payload = {k: v for k, v in example["payload"].items() if k != "signature"}
    if name in CONTROL_COMMANDS:
        assert isinstance(parse_control(name, payload, ServicePort), ControlRequest)
    else:
        parse_command(name, payload)


def test_every_operation_says_qos_1_and_commands_are_never_retained() -> None:
    for name, operation in DOC["operations"].items():
        mqtt = operation["bindings"]["mqtt"]
        assert mqtt["qos"] == 1, name
        if operation["action"] == "receive":
            assert mqtt["retain"] is False, name


def test_event_schema_names_the_domain_events_and_their_fields() -> None:
    schema = Contract().schemas["event.json"]
    assert sorted(schema["properties"]["type"]["enum"]) == sorted(EVENT_TYPES)
    payloads = schema["definitions"]["payloads"]
    for name, cls in EVENT_TYPES.items():
        fields = [f.name for f in dataclasses.fields(cls)]
        assert sorted(payloads[name]["properties"]) == sorted(fields), name
        assert sorted(payloads[name]["required"]) == sorted(fields), name


def test_a_schema_refuses_what_the_parser_refuses() -> None:
    contract = Contract()
    (example,) = MESSAGES["cmd_reserve"]["examples"]
    good = example["payload"]
    assert contract.errors("commands/reserve.json", {**good, "size": "XL"})
    assert contract.errors("commands/reserve.json", {**good, "id_number": "11010519491231002X"})
    without = {k: v for k, v in good.items() if k != "deadline"}
    assert contract.errors("commands/reserve.json", without)
