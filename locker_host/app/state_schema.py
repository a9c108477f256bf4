"""The MQTT contract's state schema: its compartment and item lines, generated from the domain.

The retained ``state`` (and the ``inventory`` reply, which refers to it) carries
the domain's ``CompartmentView`` and ``ItemView`` as ``serde.to_plain`` makes
them; their closed sets of words (state, door, item, sensors, faults, kind,
stage) are the domain's ``StrEnum``s. So ``definitions/compartment``,
``definitions/item`` and one definition per value set in
``docs/asyncapi/schemas/state.json`` follow from the classes, by the rules of
``event_schema.py``; a ``description`` or ``minimum`` written by hand on a
property is kept. The envelope (``site``, ``audit_head``, ...) is written by
hand. ``scripts/update_docs.py`` writes it; ``tests/test_docs.py`` fails when
file and code differ.
"""

from __future__ import annotations

import copy
from enum import StrEnum

from locker_host.domain import CompartmentId, CompartmentView, DepartmentId, ItemView, Size

from .event_schema import JsonSchema, object_schema, value_schema

_KEPT = ("description", "minimum")  # notes by hand on a generated property
_REFS: dict[object, JsonSchema] = {
    CompartmentId: {"$ref": "common.json#/definitions/compartment"},
    DepartmentId: {"$ref": "common.json#/definitions/department"},
    Size: {"$ref": "common.json#/definitions/size"},
    ItemView: {"$ref": "#/definitions/item"},
}


def render_state_schema(published: JsonSchema) -> JsonSchema:
    """``published`` (the schema as it stands) with its generated parts made from the code."""
    schema = copy.deepcopy(published)
    before = published.get("definitions", {})
    enums: dict[str, type[StrEnum]] = {}
    lines = {
        "compartment": object_schema(CompartmentView, enums, _REFS),
        "item": object_schema(ItemView, enums, _REFS),
    }
    for name, line in lines.items():
        kept = before.get(name, {}).get("properties", {})
        for field, definition in line["properties"].items():
            definition.update({k: v for k, v in kept.get(field, {}).items() if k in _KEPT})
    schema["definitions"] = {**lines, **{key: value_schema(enums[key]) for key in sorted(enums)}}
    return schema
