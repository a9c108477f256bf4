"""How many inputs each fuzzer tries: a bounded number in the default suite, more on demand.

    LOCKER_FUZZ_EXAMPLES=20000 pytest tests/fuzz     (./run.sh reliability sets it too)

Every fuzzer asserts the same contract: no crash, and every rejection is a typed
value or a typed exception (the exact types are listed in each test).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEFAULT_EXAMPLES = 100
EXAMPLES = int(os.environ.get("LOCKER_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))

fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,  # no timing in tests; speed is bench/'s business
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # a fixed budget per run, not a growing replay of old failures
)
