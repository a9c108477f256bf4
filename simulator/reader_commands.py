"""Control commands for the simulated card reader (added to `commands.COMMANDS`).

    swipe         {"id_number": "...", "hold": 3, "type": "resident", "name": "..."}
                  a card on the reader for `hold` seconds (0: until remove_card);
                  `type` defaults to what the number looks like
    remove_card   the card is lifted off the reader
    reader_fault  {"fault": "none" | "no_sam" | "read_failure" | "read_failure_once"}
    reader_model  {"model": "fast" | "typical" | "slow" | "alternating", "seed": 0}
                  how long the reader works per step, and whether it answers 80 and
                  9F by turns while a card rests (reader.READER_MODELS)
    reader        the reader's device, card, fault and counters
    reader_unplug / reader_replug   the reader's USB cable
    staff_card    {"number": "..."}  a clerk's card held to the staff-card reader:
                  it types the number (staff_reader.py)
    staff_reader  the staff-card reader: device, kind, cards typed

Answers never echo the ID number or the card number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from protocol.errors import UsageError

from .arguments import Args, CommandError, Param
from .reader import READER_MODELS, ReaderFaultMode
from .reader_cards import CardType, card_record, infer_card_type, shape_problem
from .reader_front import ReaderFront
from .staff_reader import StaffReaderFront

DEFAULT_HOLD = 3.0

# Handlers take any context: they need only its `card_reader` (the runtime's).
ReaderHandler = Callable[[object, Args], dict[str, object]]


@runtime_checkable
class HasCardReader(Protocol):
    @property
    def card_reader(self) -> ReaderFront | None: ...


def _front(ctx: object) -> ReaderFront:
    front = ctx.card_reader if isinstance(ctx, HasCardReader) else None
    if front is None:
        raise CommandError("no_reader", "this simulator serves no card reader")
    return front


@runtime_checkable
class HasStaffReader(Protocol):
    @property
    def staff_reader(self) -> StaffReaderFront | None: ...


def _staff_front(ctx: object) -> StaffReaderFront:
    front = ctx.staff_reader if isinstance(ctx, HasStaffReader) else None
    if front is None:
        raise CommandError("no_staff_reader", "this simulator serves no staff-card reader")
    return front


SWIPE_PARAMS = {
    "id_number": Param("text", required=True),
    "hold": Param("seconds", default=DEFAULT_HOLD),
    "type": Param("choice", choices=tuple(t.value for t in CardType)),
    "name": Param("text"),
}
STAFF_CARD_PARAMS = {"number": Param("text", required=True)}
FAULT_PARAMS = {"fault": Param("choice", required=True, choices=tuple(ReaderFaultMode))}
MODEL_PARAMS = {
    "model": Param("choice", required=True, choices=tuple(READER_MODELS)),
    "seed": Param("int", default=0),
}


def swipe(ctx: object, args: Args) -> dict[str, object]:
    front = _front(ctx)
    number = args.text("id_number").strip()
    card_type = CardType(args.text("type")) if args.has("type") else infer_card_type(number)
    problem = shape_problem(number, card_type)
    if problem is not None:
        raise CommandError("bad_argument", f"id_number: {problem}")
    try:
        card = card_record(number, card_type, args.text("name") if args.has("name") else None)
    except UsageError as exc:
        raise CommandError("bad_argument", f"name: {exc}") from None
    hold = args.number("hold")
    front.model.place(card, card_type, front.now(), hold)
    front.wake()
    return {"card": card_type.value, "hold": hold if hold > 0 else None}


def remove_card(ctx: object, args: Args) -> dict[str, object]:
    front = _front(ctx)
    removed = front.model.remove_card()
    front.wake()
    return {"removed": removed}


def reader_fault(ctx: object, args: Args) -> dict[str, object]:
    front = _front(ctx)
    front.model.fault = ReaderFaultMode(args.text("fault"))
    return {"fault": front.model.fault.value}


def reader_model(ctx: object, args: Args) -> dict[str, object]:
    front = _front(ctx)
    front.model.set_model(args.text("model"), args.integer("seed"))
    return {"model": front.model.model_name}


def reader_info(ctx: object, args: Args) -> dict[str, object]:
    return {"reader": _front(ctx).info()}


def reader_plug(action: str) -> ReaderHandler:
    def run(ctx: object, args: Args) -> dict[str, object]:
        front = _front(ctx)
        front.unplug() if action == "unplug" else front.replug()
        return {"reader": front.info()}

    return run


def staff_card(ctx: object, args: Args) -> dict[str, object]:
    front = _staff_front(ctx)
    try:
        front.present(args.text("number").strip())
    except UsageError as exc:
        raise CommandError("bad_argument", f"number: {exc}") from None
    return {"staff_reader": front.kind.value, "cards": front.cards}


def staff_reader_info(ctx: object, args: Args) -> dict[str, object]:
    return {"staff_reader": _staff_front(ctx).info()}
