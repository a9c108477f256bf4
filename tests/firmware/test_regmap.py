"""firmware/regmap.py is what firmware/tools/regmap.py renders from protocol/:
the contract's numbers are typed once, in protocol/reference_board.py."""

from __future__ import annotations

import pytest

from firmware import regmap
from firmware.tools import regmap as generator
from protocol import reference_board as rb


def test_the_firmware_register_map_is_the_rendered_one() -> None:
    # fails when either side changes alone: `python -m firmware regmap` rewrites it
    assert generator.TARGET.read_text() == generator.render()


@pytest.mark.parametrize("name", generator._NAMES)
def test_every_constant_has_the_contract_value(name: str) -> None:
    assert getattr(regmap, name) == getattr(rb, name)


def test_flags_polarity_and_serial_tables_match_the_contract() -> None:
    assert {f.name: int(f) for f in rb.StatusFlags} == {
        "RESET": regmap.FLAG_RESET,
        "PULSE_ACTIVE": regmap.FLAG_PULSE_ACTIVE,
        "FACTORY_DEFAULTS": regmap.FLAG_FACTORY_DEFAULTS,
        "WATCHDOG": regmap.FLAG_WATCHDOG,
    }
    assert int(sum(rb.Polarity)) == regmap.POLARITY_ALL
    assert regmap.BAUD_RATES == rb.BAUD_RATES
    assert regmap.FRAMES == rb.FRAMES
    assert regmap.FRAME_BITS == (11, 11, 11, 10)  # 8E1, 8O1, 8N2, 8N1


def test_a_contract_change_shows_in_the_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    before = generator.render()
    monkeypatch.setattr(rb, "PULSE_MAX_MS", rb.PULSE_MAX_MS + 1)
    assert generator.render() != before
