"""Documents that are generated from code must match it."""

import json
import re
from pathlib import Path

from locker_host.api import openapi_document
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
