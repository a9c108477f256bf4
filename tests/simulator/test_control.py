"""The control channel over real TCP: JSON lines, bad input answered, never a crash."""

from __future__ import annotations

import json
import socket

from .conftest import SimFactory


def test_json_lines_over_loopback(make_sim: SimFactory) -> None:
    sim = make_sim()
    host, port = sim.control.address.split(":")
    assert host == "127.0.0.1"
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        stream = sock.makefile("rwb")
        answers = []
        for line in (
            b"this is not json\n",
            b'["a list"]\n',
            b"\n",
            b'{"cmd": "open", "compartment": "A01"}\n',
            b'{"cmd": "ping"}\n',
            b"\xff\xfe\n",
        ):
            stream.write(line)
            stream.flush()
            if line.strip():
                answers.append(json.loads(stream.readline()))
    codes = [a["error"]["code"] if not a["ok"] else "ok" for a in answers]
    assert codes == ["bad_json", "bad_request", "door_locked", "ok", "bad_json"]
    assert all(isinstance(a["error"]["message"], str) for a in answers if not a["ok"])
