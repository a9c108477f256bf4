"""Documents that are generated from code must match it."""

import json
import re
from pathlib import Path

from jsonschema import Draft7Validator

from locker_host.api import openapi_document
from locker_host.app.event_schema import render_event_schema
from locker_host.app.state_schema import render_state_schema
from locker_host.domain import (
    AbandonReason,
    CompartmentState,
    DoorReading,
    FaultReason,
    ItemKind,
    ItemReading,
    ItemStage,
    LoadFailure,
    LockoutScope,
    Outcome,
    Purpose,
    Sensor,
    Size,
)
from protocol.families import render_family_table
from protocol.reference_board import render_register_table

ROOT = Path(__file__).resolve().parent.parent


def block(path: str, name: str) -> str:
    text = (ROOT / path).read_text()
    match = re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", text, re.DOTALL)
    assert match, f"{path} lacks the {name} markers"
    return match.group(1)


def test_reference_board_register_table_matches_the_code() -> None:
    assert block("docs/reference-board.md", "register-map") == render_register_table(), (
        "run: .venv/bin/python scripts/update_docs.py"
    )


def test_the_board_family_table_matches_the_registry() -> None:
    assert block("docs/boards.md", "families") == render_family_table(), (
        "run: .venv/bin/python scripts/update_docs.py"
    )


def test_the_openapi_document_matches_the_api() -> None:
    published = json.loads((ROOT / "docs/openapi.json").read_text(encoding="utf-8"))
    assert published == openapi_document(), "run: .venv/bin/python scripts/update_docs.py"


EVENT_SCHEMA = ROOT / "docs/asyncapi/schemas/event.json"


def test_the_event_schema_matches_the_domain_events() -> None:
    published = json.loads(EVENT_SCHEMA.read_text(encoding="utf-8"))
    assert published == render_event_schema(published), (
        "run: .venv/bin/python scripts/update_docs.py"
    )


def test_the_event_schema_lists_every_value_of_every_closed_field() -> None:
    published = json.loads(EVENT_SCHEMA.read_text(encoding="utf-8"))
    values = {key: d["enum"] for key, d in published["definitions"].items() if key != "payloads"}
    assert values == {
        "abandon_reason": [r.value for r in AbandonReason],
        "load_failure": [r.value for r in LoadFailure],
        "lockout_scope": [s.value for s in LockoutScope],
        "outcome": [o.value for o in Outcome],
        "purpose": [p.value for p in Purpose],
    }
    opened = {**published, "$ref": "#/definitions/payloads/open.opened"}
    good = {"compartment": "A01", "open_id": "o1", "purpose": "pickup", "outcome": "opened"}
    validator = Draft7Validator(opened)
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({**good, "outcome": "jammed"}))
    assert list(validator.iter_errors({**good, "purpose": "repair"}))


STATE_SCHEMA = ROOT / "docs/asyncapi/schemas/state.json"
SCHEMAS = ROOT / "docs/asyncapi/schemas"


def test_the_state_schema_matches_the_domain_views() -> None:
    published = json.loads(STATE_SCHEMA.read_text(encoding="utf-8"))
    assert published == render_state_schema(published), (
        "run: .venv/bin/python scripts/update_docs.py"
    )


def test_the_state_schema_lists_every_value_of_every_closed_field() -> None:
    published = json.loads(STATE_SCHEMA.read_text(encoding="utf-8"))
    values = {key: d["enum"] for key, d in published["definitions"].items() if "enum" in d}
    assert values == {
        "compartment_state": [s.value for s in CompartmentState],
        "door_reading": [d.value for d in DoorReading],
        "fault_reason": [f.value for f in FaultReason],
        "item_kind": [k.value for k in ItemKind],
        "item_reading": [i.value for i in ItemReading],
        "item_stage": [s.value for s in ItemStage],
        "sensor": [s.value for s in Sensor],
    }
    common = json.loads((SCHEMAS / "common.json").read_text(encoding="utf-8"))
    assert common["definitions"]["size"]["enum"] == [s.value for s in Size]
    # Every closed set of a recall entry (reply.json) is the state's.
    reply = json.loads((SCHEMAS / "reply.json").read_text(encoding="utf-8"))
    recall = reply["definitions"]["ok"]["allOf"][3]["then"]["properties"]["entries"]["items"]
    assert recall["properties"]["kind"] == {"$ref": "state.json#/definitions/item_kind"}
    assert recall["properties"]["stage"] == {"$ref": "state.json#/definitions/item_stage"}
