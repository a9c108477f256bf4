"""The line's timing as a master on the other side makes it (issue 14.6): a
request with an inner pause between t1.5 and t3.5 must be discarded, as
Modbus over Serial Line V1.02 2.5.1.1 says, also when the simulator's line
thread gets a CPU late. The master is a process of its own
(tests/simulator/split_master.py), so no GIL stands between it and the line.

Starved: the lateness is made, not hoped for. The line thread is put in the
lowest scheduling class (SCHED_IDLE, which any process may give its own
threads) on one CPU, and a child of the master keeps that CPU busy from just
before the first half until HOLD later: the kernel wakes the line thread
when the bytes arrive and gives it the CPU HOLD later, as a loaded machine
did when the defect was found. Stamped when read, the first half moved HOLD
late and the pause looked shorter than t1.5 (measured before the fix: 10
of 20 answered). This runs over the line's RTU-over-TCP port: loopback TCP
hands the bytes to the socket in the sender's own context, while a pty
hands them over through a kernel worker thread which, on a busy CPU, runs
late too, and that no reader can see (simulator/front.py).

Unforced: over the pty, as the machine happens to be. On a loaded 2-core
machine, 10 runs of 20 tries: 5 of 200 answered before the fix, 1 of 200
after (the pty's own delivery); the issue saw 2 to 5 of 10 with a master
that spins through the pause. This one guards against the line losing
pauses wholesale; the starved test above is the one that failed before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from protocol import reference_board as rb
from protocol.modbus import encode_request
from simulator.front import LineFront, RunDelay
from simulator.layout import simple_layout

from .conftest import SimFactory

MASTER = Path(__file__).with_name("split_master.py")
BAUD = 9600
TRIES = 20
CPU = max(os.sched_getaffinity(0))
# A wait in which the line thread also waited for a CPU on its way into
# `select` is not corrected (simulator/front.py): its stamp stays late, and a
# thread of the lowest class on a CPU others use is sometimes held off there.
# Measured here, 30 tries a run: 0 to 2 answered with the fix, 10 to 17
# without it (before the once-on-a-CPU rule; 10 of 10 runs pass with it).
ALLOWED = 3
# Outside load (a browser and the demo on the same two cores) has once put a
# run of 20 over ALLOWED; a defect does it in every run (10 to 17 of 30). So a
# run over the limit is followed by a second one, and that one decides.
RUNS = 2
several_cpus = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="the held CPU and the master's must differ"
)


def starve(front: LineFront) -> None:
    """The line thread runs on CPU only, and only when nothing else wants it."""
    tid = front._thread.native_id
    assert tid is not None
    os.sched_setaffinity(tid, {CPU})
    os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))


def split_requests(
    front: LineFront,
    device: str,
    pause: float,
    window: tuple[float, float],
    tries: int,
    hold: float | None = None,
) -> list[dict[str, object]]:
    """`tries` requests for unit 1, each sent in two halves `pause` apart on
    the wire; only tries whose pause the master kept inside `window`."""
    fmt = front.line.format
    request = encode_request(1, rb.status_request(24))
    args = [device, str(fmt.baud), str(fmt.bits_per_char), str(pause)]
    args += [str(window[0]), str(window[1]), str(tries), request.hex()]
    if hold is not None:
        args += [str(CPU), str(hold)]
    command = [sys.executable, str(MASTER), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    results: list[dict[str, object]] = json.loads(done.stdout)
    valid = [r for r in results if r["valid"]]
    assert len(valid) == tries, results  # the master could leave the pause it meant to
    return valid


def at_most_allowed(run: Callable[[], list[dict[str, object]]]) -> None:
    """``run`` gives the tries that went wrong; at most ALLOWED of them, in the first
    run or, if that one had more, in the next (RUNS in all)."""
    seen = []
    for _ in range(RUNS):
        wrong = run()
        if len(wrong) <= ALLOWED:
            return
        seen.append(wrong)
    raise AssertionError(
        f"more than {ALLOWED} of {TRIES} went wrong in each of {RUNS} runs: {seen}"
    )


@several_cpus
def test_an_inner_pause_is_seen_by_a_line_thread_that_runs_late(make_sim: SimFactory) -> None:
    sim = make_sim(simple_layout(baud=BAUD))
    front = sim.fronts["bus0"]
    fmt = front.line.format
    pause = (fmt.t15 + fmt.t35) / 2  # 2.86 ms at 9600 8E1: t1.5 = 1.72, t3.5 = 4.01
    hold = pause - fmt.t15 / 2  # stamped this late, the pause would look shorter than t1.5
    starve(front)

    def answered() -> list[dict[str, object]]:
        since = max((t.seq for t in front.line.transactions()), default=0)
        results = split_requests(
            front, f"tcp:{front.tcp.address}", pause, (fmt.t15, fmt.t35), TRIES, hold
        )
        answered = [r for r in results if r["answered"]]
        # each one not answered was discarded as incomplete, not lost some other way
        outcomes = [t.outcome for t in front.line.transactions(since)]
        assert outcomes.count("incomplete") >= TRIES - len(answered), outcomes
        return answered

    at_most_allowed(answered)


@several_cpus
def test_a_request_without_a_pause_is_served_by_a_line_thread_that_runs_late(
    make_sim: SimFactory,
) -> None:
    sim = make_sim(simple_layout(baud=BAUD))
    front = sim.fronts["bus0"]
    fmt = front.line.format
    starve(front)

    def unanswered() -> list[dict[str, object]]:
        results = split_requests(
            front, f"tcp:{front.tcp.address}", fmt.t15 / 4, (0.0, fmt.t15), TRIES, fmt.t15 / 8
        )
        return [r for r in results if not r["answered"]]

    # The same limit the other way: a first half stamped early makes a pause
    # of its own (measured: 1 of 20 in one run out of 4 on a busy machine).
    at_most_allowed(unanswered)


def test_an_inner_pause_over_the_pty_is_discarded(make_sim: SimFactory) -> None:
    sim = make_sim(simple_layout(baud=BAUD))
    front = sim.fronts["bus0"]
    fmt = front.line.format
    pause = (fmt.t15 + fmt.t35) / 2

    def answered() -> list[dict[str, object]]:
        results = split_requests(front, str(front.pty.link), pause, (fmt.t15, fmt.t35), TRIES)
        return [r for r in results if r["answered"]]

    at_most_allowed(answered)


@several_cpus
def test_a_wait_for_a_cpu_on_the_way_into_the_wait_is_not_taken_off_the_stamp() -> None:
    """The owner-faults test once saw a silence violation with no timeout
    (CI, stop 20): the line thread handed the GIL to the in-process host on
    its way into `select`, waited for a CPU to get going again, and that
    wait, counted with the one after the bytes woke it, stamped the request
    before the host wrote it. A wait in which the thread was put on a CPU
    more than once is not corrected. Here the thread sleeps twice on a CPU
    kept busy at the lowest class, so both wake-ups wait for the CPU."""
    hog = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nend = time.monotonic() + 10\nwhile time.monotonic() < end: pass",
        ],
    )
    result: dict[str, object] = {}

    def probe() -> None:
        os.sched_setaffinity(0, {CPU})
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        delay = RunDelay()
        delay.open_for_this_thread()
        try:
            before = delay.read()
            time.sleep(0.002)
            time.sleep(0.002)
            after = delay.read()
            result.update(before=before, after=after, late=delay.late_after_wake(before))
        finally:
            delay.close()

    try:
        os.sched_setaffinity(hog.pid, {CPU})
        time.sleep(0.05)  # the hog is running on CPU
        thread = threading.Thread(target=probe)
        thread.start()
        thread.join(timeout=10)
    finally:
        hog.kill()
        hog.wait()
    before, after = result["before"], result["after"]
    if before is None:
        pytest.skip("this kernel keeps no scheduler statistics (CONFIG_SCHED_INFO)")
    assert isinstance(before, tuple) and isinstance(after, tuple)
    assert after[1] - before[1] >= 2, "each sleep ended with a trip onto the CPU"
    assert after[0] > before[0], "the busy CPU made the thread wait after its wake-ups"
    assert result["late"] == 0.0
