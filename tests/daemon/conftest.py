"""Fixtures for the daemon's tests (async tests: see tests/conftest.py).

Every test here captures logging at DEBUG and fails if a raw test ID number
shows up in it (DESIGN.md section 5: logs show a mask only).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.readers.conftest import no_id_number_in_logs
from tests.simulator.conftest import SimFactory, make_sim

__all__ = ["VALID", "SimFactory", "make_sim", "no_id_number_in_logs"]

STAFF_DIGEST = "ab" * 32

VALID: dict[str, Any] = {
    "site": "hh",
    "locker": "L01",
    "compartments": [
        {"id": "A01", "size": "S", "unit": 1, "channel": 1},
        {"id": "A02", "size": "M", "unit": 1, "channel": 2},
        {"id": "A03", "size": "L", "unit": 2, "channel": 1, "height_mm": 700},
        {"id": "A04", "size": "S", "unit": 1, "channel": 3},
        {"id": "E01", "size": "L", "unit": 3, "channel": 1, "sensors": ["door_switch"]},
    ],
    "paths": {"database": "state/locker.db", "secrets": "/etc/lockerd/secrets.toml"},
    "buses": [
        {
            "name": "bus0",
            "port": "/dev/ttyUSB0",
            "boards": [
                {"family": "reference", "unit": 1, "channels": 24},
                {"family": "reference", "unit": 2, "channels": 8},
                {
                    "family": "relay",
                    "unit": 3,
                    "inputs": [
                        {"door": {"unit": 3, "input": 1}},
                        {"door": {"unit": 4, "input": 2}},
                    ],
                },
            ],
        }
    ],
    "readers": [
        {"kind": "sam", "name": "idcard", "port": "/dev/ttyUSB1"},
        {"kind": "line", "name": "scanner", "port": "/dev/ttyACM0"},
    ],
    "departments": [
        {"id": "market", "labels": {"zh": "市场", "en": "Market"}},
        {"id": "tax", "labels": {"zh": "税务", "en": "Tax"}},
    ],
    "services": [
        {
            "name": "licence",
            "department": "market",
            "size": "M",
            "labels": {"zh": "执照", "en": "Licence"},
        }
    ],
    "staff": [
        {"card_digest": STAFF_DIGEST, "staff_id": "M-1", "department": "market", "role": "clerk"},
        {"card_digest": "cd" * 32, "staff_id": "T-1", "department": "tax", "role": "technician"},
    ],
}


@pytest.fixture
def valid() -> dict[str, Any]:
    """A small configuration that passes; each test breaks one thing in its copy."""
    return copy.deepcopy(VALID)
