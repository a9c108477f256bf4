"""The pages' colours are readable: WCAG 2.1 contrast of every text pair >= 4.5:1 (AA).

base.css declares each pair as ``--NAME-bg`` / ``--NAME-fg``; this computes
their contrast ratios with the WCAG formula (relative luminance of sRGB).
The browser tests check the rendered screens' computed colours as well.
"""

from __future__ import annotations

import pytest

from .pages import ASSETS, css_variables

AA_NORMAL = 4.5


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def pairs() -> list[tuple[str, str, str]]:
    variables = css_variables((ASSETS / "base.css").read_text(encoding="utf-8"))
    found = []
    for name, value in variables.items():
        if name.endswith("-bg"):
            stem = name[: -len("-bg")]
            assert f"{stem}-fg" in variables, f"--{name} has no --{stem}-fg"
            found.append((stem, value, variables[f"{stem}-fg"]))
    return found


def test_the_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_every_state_of_the_map_has_a_pair() -> None:
    stems = {stem for stem, _, _ in pairs()}
    for state in ("free", "reserved", "occupied", "overdue", "fault", "offline", "out_of_service"):
        assert f"state-{state}" in stems


@pytest.mark.parametrize(("stem", "background", "foreground"), pairs())
def test_text_on_its_background_meets_aa(stem: str, background: str, foreground: str) -> None:
    ratio = contrast(background, foreground)
    assert ratio >= AA_NORMAL, f"{stem}: {foreground} on {background} is {ratio:.2f}:1"
