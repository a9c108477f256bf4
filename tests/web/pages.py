"""Where the pages live, and what they are made of, for the tests that read them as files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import locker_host

PAGES = Path(locker_host.__file__).parent / "api" / "pages"
ASSETS = PAGES / "assets"
LANGUAGES = ("zh", "en")


def messages() -> dict[str, dict[str, dict[str, str]]]:
    loaded: dict[str, Any] = json.loads((ASSETS / "messages.json").read_text(encoding="utf-8"))
    return loaded


def page_sources() -> dict[str, str]:
    """Every HTML and JS file of the pages, by name."""
    files = [*PAGES.glob("*/*.html"), *ASSETS.glob("*.js")]
    return {str(p.relative_to(PAGES)): p.read_text(encoding="utf-8") for p in files}


def css_variables(text: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", text))
