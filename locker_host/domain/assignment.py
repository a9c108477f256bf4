"""Which free compartment a new drop-off or reservation gets: a pure policy.

Order (DESIGN.md section 4.1, refined): the smallest size that fits, then the
least worn (fewest pulses: wear levelling of locks and hinges), then, when the
person did *not* ask for an accessible slot, a high one first so that low slots
stay free for those who need them; the id breaks the last tie so the choice is
deterministic.

An accessible (low) slot, when asked for, is a requirement, not a preference:
a compartment out of reach is no use to a wheelchair user, so DESIGN.md's
"accessible height last" ordering would give the wrong answer for them.

Only compartments that are FREE (so not out of service and not faulty), with no
open under way, on a board that answers, and whose item sensor does not see
something inside are candidates; the caller passes the board test in.
`assign` says why there is none: a free one may lie on a board not read since
start (`boards_not_ready`: try again in a few seconds), or there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .compartment import Compartment, CompartmentState, ItemReading
from .errors import BoardsNotReady, NoCompartmentAvailable
from .layout import BoardRef, CompartmentSpec, Size
from .policy import LockerPolicy
from .state import LockerState, board_online, board_unseen


def is_low(spec: CompartmentSpec, policy: LockerPolicy) -> bool:
    return spec.height_mm <= policy.accessible_max_height_mm


def choose_compartment(
    candidates: Iterable[tuple[CompartmentSpec, Compartment]],
    size: Size,
    *,
    accessible: bool,
    policy: LockerPolicy,
    board_online: Callable[[BoardRef], bool],
) -> CompartmentSpec | None:
    eligible = [
        (spec, compartment)
        for spec, compartment in candidates
        if compartment.state is CompartmentState.FREE
        and compartment.open_id is None
        and compartment.physical.item is not ItemReading.PRESENT
        and spec.size.fits(size)
        and board_online(spec.wiring.board)
        and (is_low(spec, policy) or not accessible)
    ]
    if not eligible:
        return None

    def rank(pair: tuple[CompartmentSpec, Compartment]) -> tuple[int, int, bool, str]:
        spec, compartment = pair
        return (spec.size.rank, compartment.pulse_count, is_low(spec, policy), spec.id)

    return min(eligible, key=rank)[0]


def assign(
    candidates: Sequence[tuple[CompartmentSpec, Compartment]],
    size: Size,
    *,
    accessible: bool,
    policy: LockerPolicy,
    state: LockerState,
) -> CompartmentSpec:
    """`choose_compartment` among the boards that answer, or the refusal that
    tells why there is none."""
    spec = choose_compartment(
        candidates,
        size,
        accessible=accessible,
        policy=policy,
        board_online=lambda board: board_online(state, board),
    )
    if spec is not None:
        return spec
    # Nobody has seen those compartments yet (their door, their item sensor):
    # refusing them is right, but the reason is "not yet", not "full".
    if choose_compartment(
        candidates,
        size,
        accessible=accessible,
        policy=policy,
        board_online=lambda board: board_unseen(state, board),
    ):
        raise BoardsNotReady(
            "the locker is still reading its boards; try again in a few seconds", size=size.value
        )
    raise NoCompartmentAvailable("no free compartment of that size", size=size.value)
