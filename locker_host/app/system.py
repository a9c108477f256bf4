"""The two ports that are trivial on a real box: the system clock and a CSPRNG code source."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

# systemd-timesyncd creates this file once the clock was synchronised (timedatectl
# shows "System clock synchronized: yes"); chrony users point ``synchronised_flag``
# at a file their own hook touches.
TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")


class SystemClock:
    def __init__(self, synchronised_flag: Path = TIMESYNCD_FLAG) -> None:
        self._flag = synchronised_flag

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def wall_trusted(self) -> bool:
        return os.path.exists(self._flag)


class SystemCodeSource:
    def digits(self, length: int) -> str:
        return "".join(str(secrets.randbelow(10)) for _ in range(length))
