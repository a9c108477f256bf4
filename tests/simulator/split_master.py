"""A Modbus master in a process of its own, for tests/simulator/test_pty_timing.py:
it sends one request in two writes with a controlled pause between the end
of the first half on the wire and the second half, and reports, for each
try, whether a reply came and the bounds of the pause it really left.

    python split_master.py DEVICE|tcp:HOST:PORT BAUD BITS_PER_CHAR PAUSE_S
                           LOW_S HIGH_S TRIES REQUEST_HEX [CPU HOLD_S]

A pty carries no line timing: the halves arrive when they are written. The
first half occupies the wire for 4 character times after its write, so the
second is written 4 x char time + pause after the first. A try counts only
if the pause it left, bounded by the times taken around the two writes,
lies wholly inside (LOW_S, HIGH_S): this process may itself be held off,
and a try it spoiled says nothing about the simulator.

With CPU and HOLD_S, a child process pinned to CPU keeps that CPU busy from
just before the first half is written until HOLD_S later, while the master
itself stays off that CPU: a thread of the lowest scheduling class
(SCHED_IDLE) pinned to CPU is woken by the first half's arrival but runs
only HOLD_S later, as on a loaded machine, while the kernel worker that
hands a pty's bytes to its reader may run on the other CPUs.

Output: one JSON line, a list of tries.
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import sys
import time
import tty

HALF = 4
REPLY_WAIT = 0.15
MAX_ATTEMPTS_PER_TRY = 5


def hog(cpu: int, orders: int, started: int) -> None:
    """Spin on `cpu` for each duration read from `orders`; 0 ends."""
    os.sched_setaffinity(0, {cpu})
    while True:
        data = os.read(orders, 8)
        if len(data) < 8:
            os._exit(0)
        (hold,) = struct.unpack("d", data)
        if hold <= 0:
            os._exit(0)
        until = time.monotonic() + hold
        os.write(started, b"s")
        while time.monotonic() < until:
            pass


def main() -> None:
    device, baud, bits, pause, low, high, tries, hex_request = sys.argv[1:9]
    hold = 0.0
    orders = started = -1
    child = 0
    if len(sys.argv) > 9:
        cpu, hold = int(sys.argv[9]), float(sys.argv[10])
        others = os.sched_getaffinity(0) - {cpu}
        order_r, orders = os.pipe()
        started, started_w = os.pipe()
        child = os.fork()
        if child == 0:
            hog(cpu, order_r, started_w)
        os.sched_setaffinity(0, others)
    char = int(bits) / int(baud)
    request = bytes.fromhex(hex_request)
    if device.startswith("tcp:"):  # RTU over TCP: the same line, no pty in between
        host, port = device[4:].rsplit(":", 1)
        conn = socket.create_connection((host, int(port)))
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fd = os.dup(conn.fileno())
        conn.close()
    else:
        fd = os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(fd)
    results = []
    attempts = 0
    while len([r for r in results if r["valid"]]) < int(tries):
        attempts += 1
        if attempts > MAX_ATTEMPTS_PER_TRY * int(tries):
            break
        time.sleep(0.05)  # far more than t3.5: every try starts a new frame
        if child:
            os.write(orders, struct.pack("d", hold + 0.0002))
            os.read(started, 1)  # the CPU is busy from now on
        before_first = time.monotonic()
        os.write(fd, request[:HALF])
        after_first = time.monotonic()
        due = after_first + HALF * char + float(pause)
        time.sleep(max(0.0, due - time.monotonic() - 0.0005))
        while time.monotonic() < due:
            pass
        before_second = time.monotonic()
        os.write(fd, request[HALF:])
        after_second = time.monotonic()
        shortest = before_second - after_first - HALF * char
        longest = after_second - before_first - HALF * char
        reply = b""
        end = time.monotonic() + REPLY_WAIT
        while (left := end - time.monotonic()) > 0:
            if select.select([fd], [], [], left)[0]:
                reply += os.read(fd, 4096)
        results.append(
            {
                "valid": float(low) < shortest and longest < float(high),
                "pause": [shortest, longest],
                "answered": bool(reply),
                "sent_at": before_first,
            }
        )
    os.close(fd)
    if child:
        os.write(orders, struct.pack("d", 0.0))
        os.waitpid(child, 0)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
