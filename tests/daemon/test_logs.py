"""Structured logs: JSON lines, and ID numbers masked even when a caller forgot to."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from locker_host.daemon import logs

RESIDENT = "11010519491231002X"
FOREIGN_2017 = "CAN110090010112"


def test_redact_masks_id_shaped_text_only() -> None:
    assert logs.redact(f"card {RESIDENT} read") == "card 110105********002X read"
    assert logs.redact("x 11010519491231002x.") == "x 110105********002x."
    assert logs.redact(FOREIGN_2017) == "CAN********0112"
    for untouched in ("1101051949123100212", "A11010519491231002X", "order 12345678"):
        assert logs.redact(untouched) == untouched


@pytest.fixture(autouse=True)
def root_logger() -> Iterator[None]:
    """configure() replaces the root logger's handlers: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logs.configure("debug", stream)
    return logging.getLogger("lockerd.test"), stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_records_are_json_lines_with_their_extras() -> None:
    logger, stream = capture()
    logger.info("pulse %s", "acknowledged", extra={"compartment": "A01", "channel": 3})
    (entry,) = lines(stream)
    assert entry["message"] == "pulse acknowledged" and entry["level"] == "info"
    assert entry["compartment"] == "A01" and entry["channel"] == 3
    assert entry["logger"] == "lockerd.test" and str(entry["time"]).endswith("+00:00")


def test_a_slip_never_reaches_the_log() -> None:
    logger, stream = capture()
    logger.warning("swiped %s", RESIDENT, extra={"card": RESIDENT, "cards": [RESIDENT]})
    try:
        raise ValueError(f"bad number {RESIDENT}")
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    assert RESIDENT not in text and RESIDENT[:14] not in text
    assert "110105********002X" in text
