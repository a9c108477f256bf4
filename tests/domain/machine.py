"""The plumbing of the domain state machine: the checks run on every decision,
and the rules for the physical world and time (``test_state_machine.py`` adds
the people and the invariants)."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from locker_host.domain import (
    BoardRead,
    BoardStatus,
    BoardUnreachable,
    CitizenActor,
    CodeCredential,
    CompartmentId,
    CompartmentState,
    ConfirmByHand,
    Decision,
    DoorClosed,
    DoorOpened,
    IdCredential,
    ItemSensed,
    Opening,
    PulseLock,
    PulseNotAcknowledged,
    Purpose,
    Restarted,
    StaffActor,
    StaffCredential,
    next_deadline,
)
from locker_host.domain.events import CertificateCancelled
from locker_host.domain.ids import OpenId

from .helpers import (
    ALICE_ID,
    BOB_ID,
    CAROL_ID,
    DAY,
    PERMITS,
    TAX,
    Harness,
    card,
    clerk,
    code,
    digest,
    owner,
    reading,
)

PEOPLE = [ALICE_ID, BOB_ID, CAROL_ID]
DEPARTMENTS = [TAX, PERMITS]
CODES = ["24681357", "13572468", "99999999"]
LAYOUT_IDS = [s.id for s in Harness().config.layout]
COMPARTMENTS = st.sampled_from([*LAYOUT_IDS, CompartmentId("Z99")])
LEAVING_EVENTS = {
    "certificate.collected",
    "certificate.recalled",
    "dossier.collected",
    "item.removed",
}


PEOPLE_BY_KEY = {owner(p): p for p in PEOPLE}
CODES_BY_DIGEST = {digest(c): c for c in CODES}


def _credential_of(actor: object) -> IdCredential | CodeCredential | StaffCredential:
    if isinstance(actor, StaffActor):
        return clerk(actor.department, actor.role)
    if isinstance(actor, CitizenActor) and actor.owner is not None:
        return card(PEOPLE_BY_KEY[actor.owner])
    return code(CODES[0])


def _names(event: object) -> set[str]:
    values: set[str] = set()
    for value in vars(event).values():
        if isinstance(value, str):
            values.add(value)
        elif isinstance(value, tuple):
            values.update(v for v in value if isinstance(v, str))
    return values


class MachineBase(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.h = Harness()
        self.h.boards_online()
        self.audited_opens: set[OpenId] = set()
        self.next_application = 1
        self.last: Decision | None = None

    # -- plumbing ------------------------------------------------------------------

    def _apply(self, message) -> Decision:  # type: ignore[no-untyped-def]
        before = self.h.s
        decision = self.h.send(message)
        self._check_decision(before, decision)
        return decision

    def _check_decision(self, before, decision: Decision) -> None:  # type: ignore[no-untyped-def]
        granted_here = {a.open_id for a in decision.audit if a.granted and a.open_id}
        new_opens = set(decision.state.opens) - set(before.opens)
        # No open without an audit record, in the same decision as its first pulse.
        for effect in decision.effects:
            first_pulse = effect.open_id in new_opens or effect.open_id not in self.audited_opens
            if isinstance(effect, PulseLock) and first_pulse:
                assert effect.open_id in granted_here, effect
        for open_id in new_opens:
            assert open_id in granted_here
            open_ = decision.state.opens[open_id]
            was = before.compartments[open_.compartment]
            assert was.open_id is None, "two opens on one compartment"
            if open_.purpose not in (Purpose.MAINTENANCE, Purpose.REMOTE):
                assert was.state not in (CompartmentState.FAULTY, CompartmentState.OUT_OF_SERVICE)
            self._check_authorised(open_, was)
        self.audited_opens |= granted_here
        # An item is never lost.
        before_items = {i.item_id: c for c in before.compartments.values() for i in c.items}
        after_items = {i.item_id for c in decision.state.compartments.values() for i in c.items}
        for item_id, compartment in before_items.items():
            if item_id in after_items:
                continue
            named = [e for e in decision.events if item_id in _names(e)]
            cancelled = [e for e in named if isinstance(e, CertificateCancelled)]
            if cancelled:
                assert not cancelled[0].was_loaded
                continue
            assert any(e.name in LEAVING_EVENTS for e in named), (item_id, decision.events)
            closing = compartment.open_id
            assert closing is not None and closing in self.audited_opens
            assert closing not in decision.state.opens
        self.last = decision

    def _check_authorised(self, open_, was) -> None:  # type: ignore[no-untyped-def]
        actor = open_.actor
        inside = was.items_inside
        if open_.purpose is Purpose.PICKUP:
            assert isinstance(actor, CitizenActor)
            for item in was.items:
                if item.item_id in open_.items:
                    assert item.collectable_by_owner
            # One owner per compartment: every item inside is that owner's.
            owners = {i.claim.owner for i in inside}
            assert len(owners) == 1
            if actor.owner is not None:
                assert owners == {actor.owner}
        elif open_.purpose in (Purpose.COLLECT, Purpose.LOAD, Purpose.RECALL):
            assert isinstance(actor, StaffActor)
            assert {i.claim.department for i in was.items} == {actor.department}

    # -- the physical world ----------------------------------------------------------

    @rule(data=st.data(), item_after=st.booleans(), answer=st.booleans())
    @precondition(lambda self: bool(self.h.s.opens))
    def person_uses_an_open(self, data: st.DataObject, item_after: bool, answer: bool) -> None:
        self._use(data.draw(st.sampled_from(sorted(self.h.s.opens))), item_after, answer)

    def _then(self, decision: Decision, use: bool, item_after: bool) -> None:
        """Most people use what they unlocked at once; some walk away."""
        if use and isinstance(decision.reply, Opening):
            for started in decision.reply.opens:
                if started.open_id in self.h.s.opens:
                    self._use(started.open_id, item_after, item_after)

    def _use(self, open_id: OpenId, item_after: bool, answer: bool) -> None:
        """Someone at an unlocked door: opens it, changes the contents, closes it."""
        open_ = self.h.s.opens[open_id]
        spec = self.h.config.layout.spec(open_.compartment)
        if spec.has_door_switch:
            self._apply(DoorOpened(spec.id))
        if spec.has_item_sensor:
            self._apply(ItemSensed(spec.id, item_after))
        if spec.has_door_switch:
            self._apply(DoorClosed(spec.id, item_after if spec.has_item_sensor else None))
        if open_.open_id in self.h.s.opens:  # a degraded compartment asks the person
            self._apply(ConfirmByHand(open_.open_id, _credential_of(open_.actor), answer))

    @rule()
    @precondition(lambda self: any(b is not BoardStatus.ONLINE for b in self.h.s.boards.values()))
    def boards_answer_again(self) -> None:
        """Every board read back, doors shut, item sensors agreeing with the records."""
        for board in self.h.config.layout.boards():
            readings = tuple(
                reading(
                    s.id,
                    False if s.has_door_switch else None,
                    bool(self.h.s.compartments[s.id].items_inside) if s.has_item_sensor else None,
                )
                for s in self.h.config.layout.on_board(board)
            )
            self._apply(BoardRead(board, readings))

    @rule(
        kind=st.sampled_from(["door_opens", "door_closes", "item_changes"]),
        cid=COMPARTMENTS,
        item=st.sampled_from([None, True, False]),
    )
    def sensor_noise(self, kind: str, cid: CompartmentId, item: bool | None) -> None:
        """Facts nobody asked for: forced doors, items appearing or vanishing."""
        if kind == "door_opens":
            self._apply(DoorOpened(cid))
        elif kind == "door_closes":
            self._apply(DoorClosed(cid, item))
        else:
            self._apply(ItemSensed(cid, bool(item)))

    @rule(data=st.data(), kind=st.sampled_from(["board_lost", "random_read", "no_ack", "restart"]))
    def disruption(self, data: st.DataObject, kind: str) -> None:
        if kind == "random_read":
            board = data.draw(st.sampled_from(self.h.config.layout.boards()))
            readings = tuple(
                reading(
                    s.id,
                    data.draw(st.booleans()) if s.has_door_switch else None,
                    data.draw(st.booleans()) if s.has_item_sensor else None,
                )
                for s in self.h.config.layout.on_board(board)
                if data.draw(st.booleans())
            )
            self._apply(BoardRead(board, readings))
        elif kind == "board_lost":
            board = data.draw(st.sampled_from(self.h.config.layout.boards()))
            self._apply(BoardUnreachable(board))
        elif kind == "no_ack" and self.h.s.opens:
            self._apply(PulseNotAcknowledged(data.draw(st.sampled_from(sorted(self.h.s.opens)))))
        elif kind == "restart":
            self.h.mono_s = 1.0  # the monotonic clock starts again with the process
            decision = self._apply(Restarted())
            assert not decision.effects, "nothing opens by itself"
            assert decision.state.opens == {}

    # -- time ------------------------------------------------------------------------

    @rule(seconds=st.floats(min_value=0, max_value=3 * DAY))
    def time_passes(self, seconds: float) -> None:
        self._timer(seconds)

    @rule()
    def until_next_deadline(self) -> None:
        deadline = next_deadline(self.h.config, self.h.s, clock_trusted=self.h.clock_trusted)
        waits = [
            d - now
            for d, now in ((deadline.mono_s, self.h.mono_s), (deadline.wall_s, self.h.wall_s))
            if d is not None
        ]
        self._timer(max(min(waits, default=0.0), 0.0))

    @rule(kind=st.sampled_from(["forward", "back", "untrusted", "trusted"]))
    def clock_trouble(self, kind: str) -> None:
        """A jump of a day either way, or the clock losing or regaining its sync."""
        if kind in ("forward", "back"):
            self.h.wall_s += DAY if kind == "forward" else -DAY
            self._timer(0.0)
        else:
            self.h.clock_trusted = kind == "trusted"

    def _timer(self, seconds: float) -> None:
        before = self.h.s
        decision = self.h.advance(seconds)
        self._check_decision(before, decision)
        deadline = next_deadline(self.h.config, decision.state, clock_trusted=self.h.clock_trusted)
        # Whatever was due has been consumed: the shell never spins.
        assert deadline.mono_s is None or deadline.mono_s > self.h.mono_s
        if self.h.clock_trusted:
            assert deadline.wall_s is None or deadline.wall_s > self.h.wall_s
