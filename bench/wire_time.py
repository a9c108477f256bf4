"""Simulator transactions against the theoretical wire time (foundation issue).

For each baud rate a real `locker-sim` process serves two reference boards
on a pseudo-terminal; this host opens the device with pyserial and runs N
status polls (FC04 of the 24-channel status block: 8-byte request, 25-byte
reply), enforcing the t3.5 inter-frame silence itself. A transaction cycle
is measured from one request's first write to the next one's, so it
includes the host's own gap, exactly like the theory:

    theory = (request + reply bytes) x bits per char / baud + 2 x t3.5 + turnaround

The simulator's own timestamps (`locker-sim stats`) show its pacing error:
how much later than its wire model it released each reply's last byte.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import socket
import time
from dataclasses import dataclass

import serial

from protocol import reference_board as rb
from protocol.modbus import ReplyReader, encode_request, reply_length
from protocol.timing import SerialFormat

from .harness import RunningSim, locker_sim, median, percentile, wait_until

CHANNELS = 24
TURNAROUND = 0.001


@dataclass(frozen=True)
class WireResult:
    baud: int
    frame: str
    transactions: int
    theory_ms: float
    host_median_ms: float
    host_p95_ms: float
    release_lag_median_us: float
    release_lag_p95_us: float
    failures: int
    silence_violations: int

    @property
    def ratio(self) -> float:
        return self.host_median_ms / self.theory_ms


def control(sim: RunningSim, request: dict[str, object]) -> dict[str, object]:
    host, port = sim.control.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    answer: dict[str, object] = json.loads(data)
    return answer


def run_one(baud: int, frame: str, transactions: int) -> WireResult:
    fmt = SerialFormat.parse(baud, frame)
    request = rb.status_request(CHANNELS)
    wire_request = encode_request(1, request)
    theory = fmt.transaction_time(len(wire_request), reply_length(request), TURNAROUND)
    with locker_sim(
        "--baud",
        str(baud),
        "--format",
        frame,
        "--channels",
        str(CHANNELS),
        "--turnaround-ms",
        str(TURNAROUND * 1000),
    ) as sim:
        port = serial.Serial(
            sim.serial_path,
            baudrate=baud,
            parity=frame[1],
            stopbits=int(frame[2]),
            timeout=0,
            exclusive=True,
        )
        fd = port.fileno()
        starts: list[float] = []
        failures = 0
        last_reply_end = time.perf_counter()
        try:
            for _ in range(transactions + 1):
                wait_until(last_reply_end + fmt.t35)
                starts.append(time.perf_counter())
                os.write(fd, wire_request)
                reader = ReplyReader(1, request)
                outcome = None
                deadline = starts[-1] + 0.5
                while outcome is None and time.perf_counter() < deadline:
                    ready, _, _ = select.select([fd], [], [], 0.05)
                    if ready:
                        outcome = reader.feed(os.read(fd, 512))
                last_reply_end = time.perf_counter()
                if outcome is None or not hasattr(outcome, "registers"):
                    failures += 1
        finally:
            port.close()
        stats = control(sim, {"cmd": "stats"})
    cycles = [b - a for a, b in itertools.pairwise(starts)]
    records = _records(stats)
    # How late the simulator really handed out each reply's last byte
    # compared with its wire model: the pacing error, independent of the host.
    lags = [(r["reply_released"] - r["reply_end"]) * 1e6 for r in records][-transactions:]
    return WireResult(
        baud=baud,
        frame=frame,
        transactions=len(cycles),
        theory_ms=theory * 1000,
        host_median_ms=median(cycles) * 1000,
        host_p95_ms=percentile(cycles, 95) * 1000,
        release_lag_median_us=median(lags),
        release_lag_p95_us=percentile(lags, 95),
        failures=failures,
        silence_violations=_violations(stats),
    )


def _bus0(stats: dict[str, object]) -> dict[str, object]:
    buses = stats.get("buses")
    assert isinstance(buses, dict) and buses, f"unexpected stats answer: {stats}"
    first = next(iter(buses.values()))
    assert isinstance(first, dict)
    return first


def _violations(stats: dict[str, object]) -> int:
    counters = _bus0(stats).get("counters")
    assert isinstance(counters, dict)
    return int(counters["silence_violations"])


def _records(stats: dict[str, object]) -> list[dict[str, float]]:
    records = _bus0(stats).get("transactions", [])
    assert isinstance(records, list)
    return [r for r in records if r.get("reply_end") is not None]
