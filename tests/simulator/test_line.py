"""The line's wire model, driven with made-up times (no threads, no clock)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from protocol import reference_board as rb
from protocol.errors import BusFault, FaultKind
from protocol.modbus import RegistersReply, decode_reply, encode_request
from protocol.timing import SerialFormat
from simulator.boards import ReferenceBoard
from simulator.faults import FaultProfile
from simulator.line import Line
from simulator.physics import Compartment, Size

from .helpers import run_line

FMT = SerialFormat.parse(19200, "8E1")
CT, T15, T35 = FMT.char_time, FMT.t15, FMT.t35
TURNAROUND = 0.001
STATUS = encode_request(1, rb.status_request(8))  # 8 bytes; the reply is 5 + 2*(2+4) = 17


def make_line(units: tuple[int, ...] = (1,)) -> tuple[Line, list[Compartment]]:
    line = Line(FMT, TURNAROUND)
    comps: list[Compartment] = []
    for unit in units:
        board_comps = [Compartment(f"U{unit}C{i}", Size.S) for i in range(8)]
        comps += board_comps
        line.attach(ReferenceBoard(unit, board_comps, now=0.0))
    return line, comps


def joined(out: list[tuple[float, bytes]]) -> bytes:
    return b"".join(data for _, data in out)


def test_the_reply_is_paced_at_the_baud_after_t35_and_the_turnaround() -> None:
    line, _ = make_line()
    out = run_line(line, [(1.0, STATUS)])
    request_end = 1.0 + 8 * CT
    reply_start = request_end + T35 + TURNAROUND
    assert len(out) == 17  # one byte per release
    assert [t for t, _ in out] == pytest.approx([reply_start + (k + 1) * CT for k in range(17)])
    assert isinstance(decode_reply(1, rb.status_request(8), joined(out)), RegistersReply)
    # the model's whole transaction, with the trailing t3.5, is the theory's
    theory = FMT.transaction_time(8, 17, TURNAROUND)
    assert out[-1][0] + T35 - 1.0 == pytest.approx(theory)


@pytest.mark.parametrize(("frame", "bits"), [("8N1", 10), ("8N2", 11), ("8E1", 11)])
@pytest.mark.parametrize("baud", [9600, 115200])
def test_pacing_follows_the_frame_format(frame: str, bits: int, baud: int) -> None:
    fmt = SerialFormat.parse(baud, frame)
    line = Line(fmt, TURNAROUND)
    line.attach(ReferenceBoard(1, [None] * 8, now=0.0))
    out = run_line(line, [(0.0, STATUS)])
    last = 8 * bits / baud + fmt.t35 + TURNAROUND + 17 * bits / baud
    assert out[-1][0] == pytest.approx(last)
    assert out[-1][0] + fmt.t35 == pytest.approx(fmt.transaction_time(8, 17, TURNAROUND))


def test_coalescing_groups_bytes_but_keeps_the_last_one_exact() -> None:
    fmt = SerialFormat.parse(115200, "8E1")
    coalesce = fmt.t15 - fmt.char_time
    line = Line(fmt, TURNAROUND)
    line.attach(ReferenceBoard(1, [None] * 8, now=0.0))
    line.feed(STATUS, 0.0)
    released: list[tuple[float, int]] = []
    while (due := line.next_deadline(coalesce)) is not None:
        line.advance(due)
        released += [(due, len(data)) for _, data in line.take_output(due)]
    start = 8 * fmt.char_time + fmt.t35 + TURNAROUND
    byte_due = [start + (k + 1) * fmt.char_time for k in range(17)]
    assert len(released) < 17  # grouped
    assert released[-1][0] == pytest.approx(byte_due[-1])  # the last byte is exact
    sent = 0
    for at, count in released:
        sent += count
        assert at >= byte_due[sent - 1] - 1e-12  # never early
    gaps = [b[0] - a[0] for a, b in pairwise(released)]
    assert max(gaps) <= fmt.t15 + 1e-12


def test_each_frame_leaves_a_transaction_record() -> None:
    line, _ = make_line()
    run_line(line, [(1.0, STATUS)])
    (txn,) = line.transactions()
    assert (txn.seq, txn.unit, txn.function, txn.outcome) == (1, 1, 4, "reply")
    assert (txn.request_bytes, txn.reply_bytes) == (8, 17)
    assert txn.request_start == 1.0 and txn.request_end == pytest.approx(1.0 + 8 * CT)
    assert txn.reply_end == pytest.approx(txn.request_end + T35 + TURNAROUND + 17 * CT)
    assert txn.reply_released == txn.reply_end
    assert line.transactions(since=1) == []


def test_history_is_bounded() -> None:
    line = Line(FMT, TURNAROUND, history=3)
    line.attach(ReferenceBoard(1, [None] * 8, now=0.0))
    run_line(line, [(float(i), STATUS) for i in range(5)])
    assert [t.seq for t in line.transactions()] == [3, 4, 5]


def test_a_request_too_soon_after_the_reply_is_a_silence_violation() -> None:
    line, _ = make_line()
    reply_end = 1.0 + 8 * CT + T35 + TURNAROUND + 17 * CT
    run_line(line, [(1.0, STATUS), (reply_end + 0.5 * T35, STATUS)])
    assert line.stats.silence_violations == 1
    assert line.stats.replies == 2  # counted, still served


def test_a_request_after_t35_of_silence_is_fine() -> None:
    line, _ = make_line()
    reply_end = 1.0 + 8 * CT + T35 + TURNAROUND + 17 * CT
    run_line(line, [(1.0, STATUS), (reply_end + 1.01 * T35, STATUS)])
    assert line.stats.silence_violations == 0


def test_talking_over_a_reply_is_a_collision_and_a_violation() -> None:
    line, _ = make_line()
    reply_start = 1.0 + 8 * CT + T35 + TURNAROUND
    run_line(line, [(1.0, STATUS), (reply_start + 2 * CT, STATUS)])
    assert line.stats.collisions == 1 and line.stats.silence_violations == 1


def test_a_gap_over_t15_inside_a_frame_makes_it_incomplete() -> None:
    line, _ = make_line()
    out = run_line(line, [(1.0, STATUS[:4]), (1.0 + 4 * CT + 1.2 * T15, STATUS[4:])])
    assert out == []
    assert line.stats.incomplete_frames == 1
    assert line.transactions()[-1].outcome == "incomplete"


def test_a_gap_under_t15_keeps_the_frame_whole() -> None:
    line, _ = make_line()
    out = run_line(line, [(1.0, STATUS[:4]), (1.0 + 4 * CT + 0.5 * T15, STATUS[4:])])
    assert len(joined(out)) == 17 and line.stats.incomplete_frames == 0


def test_garbage_gets_no_reply_and_does_not_break_the_next_frame() -> None:
    line, _ = make_line()
    out = run_line(line, [(1.0, b"\x00\xff garbage \x13\x37"), (2.0, STATUS), (3.0, b"\x01")])
    assert isinstance(decode_reply(1, rb.status_request(8), joined(out)), RegistersReply)
    assert line.stats.ignored == 2 and line.stats.replies == 1
    assert [t.outcome for t in line.transactions()] == [
        "ignored:bad_crc",
        "reply",
        "ignored:too_short",
    ]


def test_an_oversized_stream_is_one_incomplete_frame() -> None:
    line, _ = make_line()
    assert run_line(line, [(1.0, bytes(2000))]) == []
    assert line.stats.incomplete_frames == 1


def test_a_unit_nobody_has_is_unanswered() -> None:
    line, _ = make_line()
    assert run_line(line, [(1.0, encode_request(9, rb.status_request(8)))]) == []
    assert line.stats.unanswered == 1


def test_a_broadcast_is_executed_by_every_board_and_never_answered() -> None:
    line, comps = make_line(units=(1, 2))
    out = run_line(line, [(1.0, encode_request(0, rb.unlock_request(3, 8)))])
    assert out == [] and line.stats.broadcasts == 1
    assert comps[2].energised and comps[8 + 2].energised


def test_an_offline_board_neither_answers_nor_executes() -> None:
    line, comps = make_line()
    slot = line.slot(1)
    assert slot is not None
    slot.online = False
    assert run_line(line, [(1.0, encode_request(1, rb.unlock_request(1, 8)))]) == []
    assert not comps[0].energised
    slot.online = True
    assert run_line(line, [(2.0, STATUS)]) != []


def test_two_boards_on_one_address_collide() -> None:
    line, comps = make_line(units=(1, 2))
    comps[8].force_door(0.5)  # so that the two replies differ
    run_line(line, [(1.0, encode_request(2, rb.set_unit_address_request(1)))])
    out = run_line(line, [(2.0, STATUS)])
    assert line.stats.collisions == 1
    reply = decode_reply(1, rb.status_request(8), joined(out))
    assert isinstance(reply, BusFault) and reply.kind == FaultKind.BAD_CRC


# -- fault injection -----------------------------------------------------------------


def faulty(profile: FaultProfile) -> Line:
    line, _ = make_line()
    slot = line.slot(1)
    assert slot is not None
    line.set_faults(slot, profile)
    return line


def outcome(line: Line, at: float = 1.0) -> tuple[list[tuple[float, bytes]], object]:
    out = run_line(line, [(at, STATUS)])
    return out, decode_reply(1, rb.status_request(8), joined(out)) if out else None


def test_fault_no_reply() -> None:
    line = faulty(FaultProfile(no_reply=1.0))
    out, _ = outcome(line)
    assert out == [] and line.stats.faults == {"no_reply": 1}
    assert line.transactions()[-1].outcome == "fault:no_reply"


def test_fault_late_reply() -> None:
    line = faulty(FaultProfile(late=1.0, late_delay=0.25))
    out, reply = outcome(line)
    assert isinstance(reply, RegistersReply)
    assert out[0][0] == pytest.approx(1.0 + 8 * CT + T35 + TURNAROUND + 0.25 + CT)


@pytest.mark.parametrize(
    ("kind", "fault"),
    [("bad_crc", FaultKind.BAD_CRC), ("wrong_unit", FaultKind.WRONG_UNIT)],
)
def test_fault_corrupts_the_reply(kind: str, fault: FaultKind) -> None:
    line = faulty(FaultProfile(**{kind: 1.0}))  # type: ignore[arg-type]
    _, reply = outcome(line)
    assert isinstance(reply, BusFault) and reply.kind == fault


def test_fault_noise_before_the_reply() -> None:
    line = faulty(FaultProfile(noise=1.0, seed=3))
    out, _ = outcome(line)
    txn = line.transactions()[-1]
    assert txn.faults == ("noise",) and 17 < txn.reply_bytes <= 17 + 8
    assert len(joined(out)) == txn.reply_bytes


def test_faults_are_reproducible_with_a_seed() -> None:
    profile = FaultProfile(no_reply=0.3, bad_crc=0.3, noise=0.3, wrong_unit=0.2, seed=42)

    def trace(p: FaultProfile) -> list[tuple[str, tuple[str, ...], int]]:
        line = faulty(p)
        run_line(line, [(float(i), STATUS) for i in range(1, 60)])
        return [(t.outcome, t.faults, t.reply_bytes) for t in line.transactions()]

    first = trace(profile)
    assert trace(profile) == first
    assert (
        trace(FaultProfile(no_reply=0.3, bad_crc=0.3, noise=0.3, wrong_unit=0.2, seed=43)) != first
    )
    assert {"no_reply", "bad_crc", "noise", "wrong_unit"} <= {k for _, f, _ in first for k in f}


def test_fault_profile_rejects_bad_rates() -> None:
    with pytest.raises(ValueError, match="no_reply"):
        FaultProfile(no_reply=1.5)
    with pytest.raises(ValueError, match="late_delay"):
        FaultProfile(late_delay=-1)
