"""mbpoll (libmodbus, the Debian package) reads the simulator like a board."""

from __future__ import annotations

import re
import shutil
import subprocess

from protocol import reference_board as rb

from .conftest import SimFactory

# Required, not skipped: ./run.sh test installs the Debian package.
MBPOLL = shutil.which("mbpoll")


def mbpoll(path: str, *args: str) -> dict[int, int]:
    assert MBPOLL is not None, "mbpoll is not installed: run ./run.sh test (apt install mbpoll)"
    cmd = [MBPOLL, "-m", "rtu", "-b", "19200", "-P", "even", "-0", "-1", "-o", "1", *args, path]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return {int(a): int(v) for a, v in re.findall(r"^\[(\d+)\]:\s+(-?\d+)", done.stdout, re.M)}


def test_mbpoll_reads_the_identity_block(make_sim: SimFactory) -> None:
    sim = make_sim()
    path = str(sim.fronts["bus0"].pty.link)
    values = mbpoll(path, "-a", "1", "-t", "3", "-r", "0", "-c", "8")
    assert values[0] == rb.MAGIC == 19531
    assert values[1] == rb.MAP_VERSION and values[2] == 24


def test_mbpoll_reads_the_status_block(make_sim: SimFactory) -> None:
    sim = make_sim()
    with sim.lock:
        sim.world.compartments["D02"].force_door(sim.now())  # unit 2, channel 2
    path = str(sim.fronts["bus0"].pty.link)
    values = mbpoll(path, "-a", "2", "-t", "3", "-r", str(rb.IR_STATUS), "-c", "10")
    base = rb.IR_STATUS
    assert values[base] == int(rb.StatusFlags.RESET)
    assert values[base + 1] == 1  # one edge
    assert values[base + 2] == 0xFFFF & ~0b10  # door_closed, channels 1-16
    assert values[base + 8] == 0b10  # door_opened_latch, channels 1-16
