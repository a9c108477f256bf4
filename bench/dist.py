"""A sample of durations, summarised in milliseconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .harness import median, percentile


@dataclass(frozen=True)
class Dist:
    n: int
    minimum: float
    median: float
    p95: float
    p99: float
    maximum: float
    mean: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Dist:
        ms = [s * 1000 for s in seconds]
        if not ms:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan, nan)
        return cls(
            len(ms),
            min(ms),
            median(ms),
            percentile(ms, 95),
            percentile(ms, 99),
            max(ms),
            sum(ms) / len(ms),
        )
