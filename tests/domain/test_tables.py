# ruff: noqa: E501  (the expectation tables are wider than code lines)
"""Every (state, input) pair of the three lifecycle tables (h2's test_state_machines).

The expectations are written out here independently of the tables, so that a
change to a table fails until this page agrees.
"""

from __future__ import annotations

import itertools

import pytest

from locker_host.domain import (
    Claim,
    CompartmentId,
    DepartmentId,
    FaultReason,
    InvalidTransition,
    Item,
    ItemId,
    ItemKind,
    ItemStage,
    Purpose,
)
from locker_host.domain.closing import RESOLUTIONS, Content
from locker_host.domain.compartment import (
    SETTLE,
    TRANSITIONS,
    Compartment,
    CompartmentInput,
    CompartmentState,
    next_state,
    transition,
)
from locker_host.domain.opens import Action, OpenInput, OpenState, step

CS, CI = CompartmentState, CompartmentInput

# "settle" = decided by the items (see compartment.py); "-" = refused.
COMPARTMENT_EXPECTED = """
                     start_dropoff reserve  cancel   deposited abandoned loaded   items_left fault    take_out_of_service return_to_service maintenance_closed
free                 dropoff       reserved -        -         -         -        -          faulty   out_of_service      -                 settle
dropoff              -             -        -        occupied  free      -        -          faulty   -                   -                 -
reserved             -             reserved settle   -         -         occupied -          faulty   -                   -                 settle
occupied             -             occupied settle   -         -         occupied settle     faulty   -                   -                 settle
out_of_service       -             -        -        -         -         -        -          out_of_service -             settle            out_of_service
faulty               -             -        faulty   -         -         -        faulty     faulty   out_of_service      settle            settle
"""


def _parse(table: str) -> dict[tuple[str, str], str]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    return {(row[0], col): cell for row in rows for col, cell in zip(header, row[1:], strict=True)}


COMPARTMENT_CASES = _parse(COMPARTMENT_EXPECTED)


@pytest.mark.parametrize(("state", "event"), list(itertools.product(CS, CI)))
def test_every_compartment_pair(state: CompartmentState, event: CompartmentInput) -> None:
    expected = COMPARTMENT_CASES[state.value, event.value]
    if expected == "-":
        with pytest.raises(InvalidTransition) as raised:
            next_state(state, event)
        assert raised.value.code == "invalid_transition"
        assert raised.value.fields == {"state": state.value, "input": event.value}
    elif expected == "settle":
        assert next_state(state, event) is SETTLE
    else:
        assert next_state(state, event) is CompartmentState(expected)


def test_the_compartment_table_has_no_pair_this_page_does_not_know() -> None:
    allowed = {k for k, v in COMPARTMENT_CASES.items() if v != "-"}
    assert {(s.value, i.value) for s, i in TRANSITIONS} == allowed


def test_settle_follows_the_items() -> None:
    claim = Claim(DepartmentId("d"), None)
    expected = Item(ItemId("x"), ItemKind.CERTIFICATE, claim, ItemStage.EXPECTED)
    held = Item(ItemId("y"), ItemKind.CERTIFICATE, claim, ItemStage.HELD)
    c = Compartment(CompartmentId("A01"), CS.OCCUPIED, claim, (held,))
    assert transition(c, CI.ITEMS_LEFT, items=()).state is CS.FREE
    assert transition(c, CI.ITEMS_LEFT, items=()).claim is None
    assert transition(c, CI.ITEMS_LEFT, items=(expected,)).state is CS.RESERVED
    assert transition(c, CI.ITEMS_LEFT, items=(expected,)).claim == claim
    assert transition(c, CI.MAINTENANCE_CLOSED).state is CS.OCCUPIED


def test_faults_are_kept_only_while_faulty() -> None:
    c = Compartment(CompartmentId("A01"))
    faulty = transition(c, CI.FAULT, fault=FaultReason.FORCED)
    faulty = transition(faulty, CI.FAULT, fault=FaultReason.FORCED)
    assert faulty.faults == (FaultReason.FORCED,)
    assert transition(faulty, CI.RETURN_TO_SERVICE).faults == ()


OS, OI = OpenState, OpenInput
# cell = next_state/action ; "-" = refused ; "=" = ignored (same state, no action)
OPEN_EXPECTED = """
                       door_opened  door_closed     door_closed_unsensed                read_shut           timeout                  hand_confirmed  board_lost        restarted
pulsed                 open/opened  =               =                                   =                   confirming/read_board    -               unknown/unknown   unknown/unknown
confirming             open/opened  =               =                                   retried/pulse_again unknown/unknown          -               unknown/unknown   unknown/unknown
retried                open/opened  =               =                                   =                   jammed/jammed            -               unknown/unknown   unknown/unknown
open                   =            closed/resolve  awaiting_confirmation/await_hand    =                   closed/resolve_default   closed/resolve  unknown/unknown   unknown/unknown
awaiting_confirmation  open/none    =               =                                   =                   closed/resolve_default   closed/resolve  =                 closed/resolve_default
closed                 -            -               -                                   -                   -                        -               -                 -
jammed                 -            -               -                                   -                   -                        -               -                 -
unknown                -            -               -                                   -                   -                        -               -                 -
"""
OPEN_CASES = _parse(OPEN_EXPECTED)


@pytest.mark.parametrize(("state", "event"), list(itertools.product(OS, OI)))
def test_every_open_pair(state: OpenState, event: OpenInput) -> None:
    expected = OPEN_CASES[state.value, event.value]
    if expected == "-":
        with pytest.raises(InvalidTransition):
            step(state, event)
        return
    result = step(state, event)
    if expected == "=":
        assert (result.state, result.action) == (state, Action.NONE)
    else:
        next_name, action = expected.split("/")
        assert (result.state.value, result.action.value) == (next_name, action)


def test_terminal_states_are_exactly_those_without_moves() -> None:
    for state in OS:
        moves = [OPEN_CASES[state.value, event.value] for event in OI]
        assert state.terminal == all(m == "-" for m in moves)


CLOSING_EXPECTED = """
              present        absent              unconfirmed
deposit       deposited      abandoned           deposited_unconfirmed
pickup        not_taken      collected           not_taken
load          loaded         load_failed         load_unconfirmed
collect       not_collected  dossiers_collected  not_collected
recall        not_recalled   recalled            not_recalled
maintenance   checked        emptied             unchanged
remote        checked        emptied             unchanged
"""
CLOSING_CASES = _parse(CLOSING_EXPECTED)


@pytest.mark.parametrize(("purpose", "content"), list(itertools.product(Purpose, Content)))
def test_every_closing_pair(purpose: Purpose, content: Content) -> None:
    assert RESOLUTIONS[purpose, content].value == CLOSING_CASES[purpose.value, content.value]
