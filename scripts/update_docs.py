"""Regenerate the tables in docs/ that are derived from code.

    .venv/bin/python scripts/update_docs.py

tests/test_docs.py fails when a table here (or docs/openapi.json) and the code disagree.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locker_host.api import openapi_document  # noqa: E402
from locker_host.api.errors import render_status_table  # noqa: E402
from locker_host.app.event_schema import render_event_schema  # noqa: E402
from locker_host.app.state_schema import render_state_schema  # noqa: E402
from protocol.families import render_family_table  # noqa: E402
from protocol.reference_board import render_register_table  # noqa: E402

GENERATED = {
    ("docs/reference-board.md", "register-map"): render_register_table,
    ("docs/boards.md", "families"): render_family_table,
    ("docs/http-api.md", "statuses"): render_status_table,
}


def replace_block(text: str, name: str, body: str) -> str:
    pattern = re.compile(
        rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", flags=re.DOTALL
    )
    if not pattern.search(text):
        raise SystemExit(f"marker <!-- {name}:begin --> not found")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


OPENAPI = "docs/openapi.json"  # the HTTP API's contract, whole
# The MQTT event schema: its types, payloads and value sets (the envelope is written by hand).
EVENT_SCHEMA = "docs/asyncapi/schemas/event.json"
# The retained state's compartment and item lines and their value sets (the envelope by hand).
STATE_SCHEMA = "docs/asyncapi/schemas/state.json"


def write_json(path: str, document: object) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    (ROOT / path).write_text(text, encoding="utf-8")
    print(f"updated {path}")


def main() -> None:
    for (path, name), render in GENERATED.items():
        file = ROOT / path
        file.write_text(replace_block(file.read_text(), name, render()))
        print(f"updated {path} ({name})")
    write_json(OPENAPI, openapi_document())
    for path, render in ((EVENT_SCHEMA, render_event_schema), (STATE_SCHEMA, render_state_schema)):
        published = json.loads((ROOT / path).read_text(encoding="utf-8"))
        write_json(path, render(published))


if __name__ == "__main__":
    main()
