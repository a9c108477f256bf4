"""`locker-sim swipe` and the other card reader subcommands (parsers and requests)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .reader import READER_MODELS, ReaderFaultMode
from .reader_cards import CardType
from .reader_commands import DEFAULT_HOLD

ClientParser = Callable[[str, str], argparse.ArgumentParser]

SWIPE_HELP = (
    "put an ID card on the simulated reader. The number must have the shape of one "
    "(18 characters: 17 digits and a digit or X; 15 for a foreign2017 card: 3 letters "
    "and 12 digits); its check digit and date are NOT validated, so invalid numbers "
    "can be presented on purpose"
)


STAFF_CARD_HELP = (
    "hold a clerk's card to the simulated staff-card reader: like the readers halls use, "
    "it types the number and Enter (as key strokes, or as a line on its serial port), "
    "and lockerd's keyboard or line reader reads it"
)


def add_reader_commands(client: ClientParser) -> None:
    swipe = client("swipe", SWIPE_HELP)
    swipe.description = SWIPE_HELP
    swipe.add_argument("id_number", metavar="ID_NUMBER", help="18 or 15 characters (see above)")
    swipe.add_argument(
        "--hold",
        type=float,
        metavar="SECONDS",
        help=f"how long the card lies on the reader ({DEFAULT_HOLD:g}; 0: until remove-card)",
    )
    swipe.add_argument(
        "--type",
        dest="card_type",
        choices=[t.value for t in CardType],
        help="the card (default: what the number looks like)",
    )
    swipe.add_argument("--name", help="the name on the card")
    client("remove-card", "lift the card off the simulated reader")
    fault = client("reader-fault", "make the simulated card reader fail (or stop failing)")
    fault.add_argument("fault", choices=[f.value for f in ReaderFaultMode])
    model = client("reader-model", "how long the simulated card reader takes, per step")
    model.add_argument("model", choices=list(READER_MODELS))
    model.add_argument("--seed", type=int, help="the spread's random seed (0)")
    client("reader", "the simulated card reader: device, card, fault, model, counters")
    client("reader-unplug", "pull the card reader's USB cable")
    client("reader-replug", "plug it back")
    staff = client("staff-card", STAFF_CARD_HELP)
    staff.description = STAFF_CARD_HELP
    staff.add_argument("number", metavar="NUMBER", help="1 to 64 letters and digits")
    client("staff-reader", "the simulated staff-card reader: device, kind, cards typed")


def reader_request(cmd: str, args: argparse.Namespace) -> dict[str, object]:
    """The request's arguments for a card reader subcommand (none for the others)."""
    if cmd == "swipe":
        fields = {
            "id_number": args.id_number,
            "hold": args.hold,
            "type": args.card_type,
            "name": args.name,
        }
        return {k: v for k, v in fields.items() if v is not None}
    if cmd == "reader_fault":
        return {"fault": args.fault}
    if cmd == "reader_model":
        return {"model": args.model} | ({} if args.seed is None else {"seed": args.seed})
    if cmd == "staff_card":
        return {"number": args.number}
    return {}
