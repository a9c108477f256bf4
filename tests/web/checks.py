"""What a person needs from a screen, checked on the rendered page in Chromium.

``problems(tab)`` walks the visible elements: every enabled button is at
least ``min_target`` CSS pixels both ways (touch targets), and every visible
text's computed colour on its computed background (the first opaque one up
the tree) has a WCAG 2.1 contrast of at least 4.5:1. Text over a gradient or
image background cannot be computed this way and is reported as skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_PROBLEMS_JS = (Path(__file__).parent / "readability.js").read_text(encoding="utf-8")


def readability(tab: Any, *, min_target: int) -> dict[str, Any]:
    found: dict[str, Any] = tab.evaluate(_PROBLEMS_JS, min_target)
    return found


def assert_readable(tab: Any, *, min_target: int = 64) -> None:
    found = readability(tab, min_target=min_target)
    assert found["texts"] > 0, "no text was checked"
    assert not found["problems"], found["problems"]
