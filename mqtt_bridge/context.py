"""What every part of a running bridge shares."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from .config import BridgeConfig
from .port import LockerPort
from .statistics import BridgeStatistics
from .topics import Topics


@dataclass(frozen=True)
class BridgeContext:
    config: BridgeConfig
    topics: Topics
    port: LockerPort
    stats: BridgeStatistics
    online: asyncio.Event  # set while the broker has us connected
    wall: Callable[[], float]  # seconds since the epoch: message times, command expiry
    monotonic: Callable[[], float]
    software: str
    boot_id: str
