"""End to end over a real pseudo-terminal with pyserial, and over TCP."""

from __future__ import annotations

import os
import socket
import time

import pytest
import serial

from protocol import reference_board as rb
from protocol.modbus import RegistersReply, ReplyReader, encode_request
from simulator.commands import dispatch
from simulator.runtime import Simulator

from .conftest import SimFactory
from .helpers import transact_serial

CHANNELS = 24
T35 = 3.5 * 11 / 19200


def open_port(sim: Simulator, timeout: float = 0.5) -> serial.Serial:
    path = sim.fronts["bus0"].pty.link
    return serial.Serial(str(path), 19200, parity=serial.PARITY_EVEN, timeout=timeout)


def status(port: serial.Serial, unit: int = 1) -> rb.BoardStatus:
    time.sleep(T35)  # the host's share of the inter-frame silence
    result = rb.parse_status(transact_serial(port, unit, rb.status_request(CHANNELS)), CHANNELS)
    assert isinstance(result, rb.BoardStatus), result
    return result


def wait_for(predicate, timeout: float = 3.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_the_device_path_is_a_stable_link_to_a_pty(make_sim: SimFactory) -> None:
    sim = make_sim()
    link = sim.fronts["bus0"].pty.link
    assert link.is_symlink() and os.readlink(link).startswith("/dev/pts/")


def test_identity_status_unlock_auto_user_and_latch(make_sim: SimFactory) -> None:
    sim = make_sim()
    assert dispatch(sim, {"cmd": "user", "auto_open_after": 0.05, "auto_close_after": 0.15})["ok"]
    with open_port(sim) as port:
        identity = rb.parse_identity(transact_serial(port, 1, rb.identity_request()))
        assert isinstance(identity, rb.Identity) and identity.channels == CHANNELS
        first = status(port)
        assert first.flags & rb.StatusFlags.RESET
        time.sleep(T35)
        transact_serial(port, 1, rb.ack_request(first.change_counter))
        time.sleep(T35)
        transact_serial(port, 2, rb.unlock_request(5, CHANNELS, pulse_ms=300))
        # the person pulls after 50 ms and closes after 150 ms: poll until both happened
        seen = wait_for(
            lambda: (
                (s := status(port, 2)).channel(5).opened_since_ack
                and s.channel(5).door_closed
                and s
            )
        )
        assert seen.change_counter >= 2
        time.sleep(T35)
        transact_serial(port, 2, rb.ack_request(seen.change_counter))
        assert not status(port, 2).channel(5).opened_since_ack
    comp = sim.world.compartments["D05"]  # unit 2 channel 5
    assert comp.opens == 1 and not comp.door_open


def test_garbage_gets_no_reply_and_later_frames_work(make_sim: SimFactory) -> None:
    sim = make_sim()
    with open_port(sim, timeout=0.15) as port:
        port.write(b"\x00\xff\x10 not modbus at all \x7f")
        assert port.read(64) == b""
        time.sleep(T35)
        reply = transact_serial(port, 1, rb.identity_request())
        assert isinstance(reply, RegistersReply) and reply.registers[0] == rb.MAGIC
    counters = dispatch(sim, {"cmd": "stats"})["buses"]["bus0"]["counters"]  # type: ignore[index]
    assert counters["ignored"] == 1 and counters["replies"] == 1


def test_silence_violations_are_counted(make_sim: SimFactory) -> None:
    """A request written as soon as the reply's first byte arrives starts while
    the reply is still on the wire (25 characters, 14 ms at 19200 bps): it is
    counted, however late this thread or the simulator's runs, unless the
    simulator is held off for longer than the rest of the reply, five times
    over. (Writing right after a whole reply was not enough: a busy machine
    delays the next request past t3.5 by itself.)"""
    sim = make_sim()
    request = encode_request(1, rb.status_request(CHANNELS))
    with open_port(sim) as port:
        for _ in range(5):
            time.sleep(0.05)  # silence before the first request of the pair
            port.reset_input_buffer()
            port.write(request)
            assert port.read(1), "the reply began"
            port.write(request)  # too soon: the reply has not ended
        time.sleep(0.1)
    counters = dispatch(sim, {"cmd": "stats"})["buses"]["bus0"]["counters"]  # type: ignore[index]
    assert counters["silence_violations"] >= 1


def test_transaction_records_carry_wire_times(make_sim: SimFactory) -> None:
    sim = make_sim()
    with open_port(sim) as port:
        t0 = time.monotonic()
        transact_serial(port, 1, rb.status_request(CHANNELS))
        t1 = time.monotonic()
    stats = dispatch(sim, {"cmd": "stats"})["buses"]["bus0"]  # type: ignore[index]
    (txn,) = stats["transactions"]
    assert t0 <= txn["received_at"] <= txn["request_start"] < txn["request_end"]
    assert txn["request_end"] < txn["reply_start"] < txn["reply_end"] <= txn["reply_released"] <= t1
    ct = stats["char_time"]
    assert txn["reply_end"] - txn["reply_start"] == pytest.approx(25 * ct)
    assert txn["reply_start"] - txn["request_end"] == pytest.approx(stats["t35"] + 0.001)


def test_injected_faults_reach_the_host(make_sim: SimFactory) -> None:
    sim = make_sim()
    dispatch(sim, {"cmd": "fault", "unit": 1, "bad_crc": 1.0})
    with open_port(sim, timeout=0.2) as port:
        reply = transact_serial(port, 1, rb.identity_request(), timeout=0.3)
    assert str(reply).startswith("bad_crc")


def test_an_offline_board_is_silent(make_sim: SimFactory) -> None:
    sim = make_sim()
    dispatch(sim, {"cmd": "offline", "unit": 2})
    with open_port(sim, timeout=0.1) as port:
        assert str(transact_serial(port, 2, rb.identity_request(), timeout=0.2)).startswith(
            "timeout"
        )
        time.sleep(T35)
        assert isinstance(transact_serial(port, 1, rb.identity_request()), RegistersReply)


def test_unplug_fails_the_open_port_and_replug_brings_the_path_back(make_sim: SimFactory) -> None:
    sim = make_sim()
    link = sim.fronts["bus0"].pty.link
    port = open_port(sim)
    try:
        assert isinstance(transact_serial(port, 1, rb.identity_request()), RegistersReply)
        assert dispatch(sim, {"cmd": "unplug"})["ok"]
        assert not link.exists() and not link.is_symlink()
        with pytest.raises(serial.SerialException):
            port.write(encode_request(1, rb.identity_request()))
            port.read(1)
        with pytest.raises(serial.SerialException):
            serial.Serial(str(link), 19200)
    finally:
        port.close()
    assert dispatch(sim, {"cmd": "replug"})["ok"]
    assert link.is_symlink()
    with open_port(sim) as again:
        assert isinstance(transact_serial(again, 1, rb.identity_request()), RegistersReply)


def test_rtu_over_tcp(make_sim: SimFactory) -> None:
    sim = make_sim()
    host, port = sim.fronts["bus0"].tcp.address.split(":")
    request = rb.identity_request()
    with socket.create_connection((host, int(port)), timeout=1.0) as sock:
        sock.sendall(encode_request(2, request))
        reader = ReplyReader(2, request)
        result = None
        while result is None:
            result = reader.feed(sock.recv(64))
    assert isinstance(result, RegistersReply) and result.registers[0] == rb.MAGIC
    txn = dispatch(sim, {"cmd": "stats"})["buses"]["bus0"]["transactions"][-1]  # type: ignore[index]
    assert txn["source"].startswith("tcp:")


@pytest.mark.parametrize(("baud", "parity"), [(9600, "E"), (115200, "E"), (19200, "O")])
def test_a_host_in_another_format_is_heard_as_garbage_and_counted(
    make_sim: SimFactory, baud: int, parity: str
) -> None:
    """Issue 14.5: the line is 19200 8E1; a host at another rate (or odd parity,
    which a pty keeps) gets no reply, and the boards' UART errors are counted."""
    sim = make_sim()
    path = str(sim.fronts["bus0"].pty.link)
    with serial.Serial(path, baud, parity=parity, timeout=0.3) as port:
        for _ in range(3):
            time.sleep(0.05)
            reply = transact_serial(port, 1, rb.identity_request(), timeout=0.3)
            assert not isinstance(reply, RegistersReply), reply
    assert sim.fronts["bus0"].info()["host_format"] == f"{baud} 8{parity}1"
    counters = dispatch(sim, {"cmd": "stats"})["buses"]["bus0"]["counters"]  # type: ignore[index]
    assert counters["replies"] == 0
    assert counters["framing_errors"] + counters["parity_errors"] >= 3
    # the same port set to the line's format is heard again
    with open_port(sim) as port:
        time.sleep(T35)
        reply = transact_serial(port, 1, rb.identity_request())
        assert isinstance(reply, RegistersReply) and reply.registers[0] == rb.MAGIC
