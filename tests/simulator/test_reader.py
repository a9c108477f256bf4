"""The simulated ID-card reader: the pure model, the framer, and the cards."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import idcard
from protocol.errors import UsageError
from simulator.reader import READER_MODELS, ReaderFaultMode, RequestFramer, SimulatedCardReader
from simulator.reader_cards import CardType, card_record, infer_card_type, shape_problem

from .test_imports import SIMULATOR, imported

S = idcard.StatusCode
RESIDENT = "11010519491231002X"
FOREIGN_2017 = "CAN110090010112"


def ask(model: SimulatedCardReader, command: idcard.Command, now: float = 0.0) -> object:
    answered = model.answer(idcard.encode_command(command), now)
    assert answered is not None
    frame, duration = answered
    assert duration > len(frame) * 10 / model.baud  # wire time plus the reader's work
    return idcard.decode_reply(command, frame)


def status(code: S) -> idcard.StatusReply:
    return idcard.StatusReply(code)


def placed(number: str = RESIDENT, card_type: CardType = CardType.RESIDENT) -> SimulatedCardReader:
    model = SimulatedCardReader()
    model.place(card_record(number, card_type), card_type, now=0.0, hold=0)
    return model


def test_an_empty_reader() -> None:
    model = SimulatedCardReader()
    assert ask(model, idcard.CheckSam()) == status(S.SUCCESS)
    assert ask(model, idcard.FindCard()) == status(S.NO_CARD)
    assert ask(model, idcard.SelectCard()) == status(S.SELECT_FAILED)
    assert ask(model, idcard.ReadCard()) == status(S.READ_FAILED)
    sam_id = ask(model, idcard.ReadSamId())
    assert isinstance(sam_id, idcard.SamIdRead)
    assert ask(model, idcard.SetBaudRate(115200)) == status(S.SUCCESS)


def test_find_select_read_returns_the_card_and_keeps_finding_it() -> None:
    model = placed()
    assert isinstance(ask(model, idcard.FindCard()), idcard.CardFound)
    assert isinstance(ask(model, idcard.SelectCard()), idcard.CardSelected)
    read = ask(model, idcard.ReadCard())
    assert isinstance(read, idcard.CardRead) and read.card.id_number == RESIDENT
    prints = ask(model, idcard.ReadCard(with_fingerprints=True))
    assert isinstance(prints, idcard.CardRead) and prints.fingerprints == b""
    assert isinstance(ask(model, idcard.FindCard()), idcard.CardFound)  # still lying there
    assert model.counters == {
        "commands": 5, "finds": 2, "found": 2, "reads": 2, "failed_reads": 0, "refused": 0,
    }  # fmt: skip


def test_a_step_skipped_gets_that_steps_failure() -> None:
    model = placed()
    assert ask(model, idcard.SelectCard()) == status(S.SELECT_FAILED)  # no find first
    ask(model, idcard.FindCard())
    assert ask(model, idcard.ReadCard()) == status(S.READ_FAILED)  # no select first


def test_faults() -> None:
    model = placed()
    model.fault = ReaderFaultMode.NO_SAM
    for command in (idcard.CheckSam(), idcard.FindCard(), idcard.ReadCard()):
        assert ask(model, command) == status(S.SELF_TEST_FAILED)
    model.fault = ReaderFaultMode.READ_FAILURE
    ask(model, idcard.FindCard())
    ask(model, idcard.SelectCard())
    assert ask(model, idcard.ReadCard()) == status(S.READ_FAILED)


def test_a_card_held_for_a_while_goes_by_itself() -> None:
    model = SimulatedCardReader()
    model.place(card_record(RESIDENT, CardType.RESIDENT), CardType.RESIDENT, now=10.0, hold=3.0)
    assert model.next_deadline() == 13.0
    assert isinstance(ask(model, idcard.FindCard(), now=12.9), idcard.CardFound)
    assert ask(model, idcard.FindCard(), now=13.0) == status(S.NO_CARD)
    assert model.next_deadline() is None
    model.place(card_record(RESIDENT, CardType.RESIDENT), CardType.RESIDENT, now=0, hold=0)
    assert model.next_deadline() is None and model.remove_card() and not model.remove_card()


def test_bad_frames_are_refused_or_ignored() -> None:
    model = SimulatedCardReader()
    frame = bytearray(idcard.encode_command(idcard.FindCard()))
    frame[-1] ^= 0xFF
    answered = model.answer(bytes(frame), 0.0)
    assert answered is not None
    assert idcard.decode_reply(idcard.FindCard(), answered[0]) == status(S.HOST_CHECKSUM_ERROR)
    assert model.answer(b"\x00\x01\x02", 0.0) is None
    assert model.counters["refused"] == 1


def test_the_framer_cuts_frames_out_of_noise_and_pieces() -> None:
    find = idcard.encode_command(idcard.FindCard())
    read = idcard.encode_command(idcard.ReadCard())
    framer = RequestFramer()
    stream = b"\x00noise\xaa\xaa" + find + b"\xaa\xaa\xaa\x96\x69\xff\xff" + read
    out = [f for i in range(0, len(stream), 3) for f in framer.feed(stream[i : i + 3])]
    assert out == [find, read]
    assert framer.discarded == 8 + 7  # the noise, and the false preamble with Len 65535


@given(st.lists(st.sampled_from([0, 1, 2, 5, 7, 10]), max_size=8))
def test_framing_does_not_depend_on_chunking(cuts: list[int]) -> None:
    frames = [idcard.encode_command(c) for c in (idcard.CheckSam(), idcard.FindCard())]
    stream = b"".join(frames)
    points = sorted({min(c * 2, len(stream)) for c in cuts})
    framer = RequestFramer()
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert [f for p in pieces for f in framer.feed(p)] == frames


@pytest.mark.parametrize(
    ("number", "card_type", "record"),
    [
        (RESIDENT, CardType.RESIDENT, idcard.ResidentCard),
        ("810000199001011230", CardType.PERMIT, idcard.ResidencePermit),
        (FOREIGN_2017, CardType.FOREIGN2017, idcard.ForeignPermanentCard2017),
        ("911560198001010012", CardType.FOREIGN2023, idcard.ForeignPermanentCard2023),
        ("110105194912310021", CardType.RESIDENT, idcard.ResidentCard),  # bad check digit
        ("11010519491331002x", CardType.RESIDENT, idcard.ResidentCard),  # bad date, lower x
    ],
)
def test_every_card_type_survives_the_text_block(
    number: str, card_type: CardType, record: type
) -> None:
    card = card_record(number, card_type)
    assert isinstance(card, record)
    assert idcard.decode_card_text(idcard.encode_card_text(card)) == card
    assert card.id_number == number.upper()
    assert infer_card_type(number) is card_type


def test_the_birth_date_comes_from_the_number_when_it_is_one() -> None:
    assert card_record(RESIDENT, CardType.RESIDENT).born == date(1949, 12, 31)  # type: ignore[union-attr]
    assert card_record("11010519491331002X", CardType.RESIDENT).born == date(1990, 1, 1)  # type: ignore[union-attr]
    assert card_record(FOREIGN_2017, CardType.FOREIGN2017).born == date(1990, 1, 1)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("number", "card_type"),
    [
        ("1101051949123100", CardType.RESIDENT),
        ("1101051949123100XX", CardType.RESIDENT),
        (RESIDENT, CardType.FOREIGN2017),
        (FOREIGN_2017, CardType.RESIDENT),
        ("１１０１０５１９４９１２３１００２Ｘ", CardType.RESIDENT),  # full-width
    ],
)
def test_only_the_shape_is_checked(number: str, card_type: CardType) -> None:
    assert shape_problem(number, card_type) is not None
    with pytest.raises(UsageError):
        card_record(number, card_type)


def test_a_name_that_does_not_fit_is_refused() -> None:
    with pytest.raises(UsageError, match="name"):
        card_record(RESIDENT, CardType.RESIDENT, name="名" * 16)


def test_the_reader_model_and_its_cards_do_no_io() -> None:
    io = {"os", "socket", "select", "threading", "time", "asyncio", "serial", "termios", "pty"}
    for name in ("reader.py", "reader_cards.py"):
        assert imported(SIMULATOR / name) & io == set(), name


def duration_of(model: SimulatedCardReader, command: idcard.Command) -> float:
    answered = model.answer(idcard.encode_command(command), 0.0)
    assert answered is not None
    frame, duration = answered
    return duration - len(frame) * 10 / model.baud  # the reader's work alone


@pytest.mark.parametrize("name", sorted(READER_MODELS))
def test_each_model_reads_within_its_spread_and_the_seed_repeats_it(name: str) -> None:
    spec = READER_MODELS[name]
    works = []
    for seed in (0, 0, 1):
        model = placed()
        model.set_model(name, seed)
        ask(model, idcard.FindCard())
        ask(model, idcard.SelectCard())
        works.append(duration_of(model, idcard.ReadCard()))
    assert works[0] == works[1]  # the same seed, the same run
    for work in works:
        assert spec.read * (1 - spec.spread) <= work <= spec.read * (1 + spec.spread)


def test_the_slow_model_reads_past_what_the_host_used_to_wait() -> None:
    # The old host waited 1.2 s + the 30 01 reply's wire time (0.11 s at 115200).
    model = placed()
    model.set_model("slow")
    reads = []
    for _ in range(20):
        ask(model, idcard.FindCard())
        ask(model, idcard.SelectCard())
        reads.append(duration_of(model, idcard.ReadCard()) + 1295 * 10 / model.baud)
    assert max(reads) > 1.31
    assert max(reads) < 2.8  # within what the most patient field driver allows


def test_read_failure_once_fails_one_read_then_finds_nothing_until_placed_again() -> None:
    model = placed()
    model.fault = ReaderFaultMode.READ_FAILURE_ONCE
    ask(model, idcard.FindCard())
    ask(model, idcard.SelectCard())
    assert ask(model, idcard.ReadCard()) == status(S.READ_FAILED)
    for _ in range(3):
        assert ask(model, idcard.FindCard()) == status(S.NO_CARD)  # Huashi: lift it first
    assert model.fault is ReaderFaultMode.NONE
    model.place(card_record(RESIDENT, CardType.RESIDENT), CardType.RESIDENT, now=0.0, hold=0)
    ask(model, idcard.FindCard())
    ask(model, idcard.SelectCard())
    assert isinstance(ask(model, idcard.ReadCard()), idcard.CardRead)
    assert model.counters["failed_reads"] == 1


def test_the_alternating_model_answers_80_and_9f_by_turns_while_a_card_rests() -> None:
    model = placed()
    model.set_model("alternating")
    answers = [ask(model, idcard.FindCard()) for _ in range(6)]
    assert [isinstance(a, idcard.CardFound) for a in answers] == [False, True] * 3
