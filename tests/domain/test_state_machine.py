"""A Hypothesis ``RuleBasedStateMachine`` driving the whole aggregate.

Rules: card swipes (strong, weak with or without code, codes alone), drop-offs
(card or code), staff opens, maintenance and remote opens, service changes,
every central command, door and item events, board reads and losses, pulses
not acknowledged, timers, clock jumps a day either way, clock trust changes,
and restarts (with the monotonic clock starting again).

Invariants, checked after every step:

* no compartment is ever promised to two owners or departments at once;
* an item is never lost: it is in its compartment, or it left in a decision
  that closed an audited open of that compartment (or was a certificate
  cancelled before it was ever loaded);
* no open without an audit record: the first pulse of every open comes with a
  granted audit record of the same open, in the same decision;
* nobody opens another owner's item: a pickup opens only compartments whose
  items belong to the credential's owner (and match its code); a staff open
  only its department's;
* the state round-trips through JSON and never contains an ID number;
* ``on_timer`` consumes every deadline it reached; a restart pulses nothing.
"""

from __future__ import annotations

import json

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from locker_host.domain import (
    Cancel,
    CodeCredential,
    CodePurpose,
    CompartmentId,
    CompartmentState,
    ConfirmByHand,
    DepartmentId,
    ExpectDropoff,
    ExtendDeadline,
    IdCredential,
    Inventory,
    ItemId,
    ItemKind,
    ItemStage,
    MaintenanceOpen,
    Pickup,
    Purpose,
    RecallList,
    RemoteOpen,
    Reserve,
    SetService,
    Size,
    StaffActor,
    StaffOpen,
    StaffRole,
    StartDropoff,
    dropoff_code,
    event_from_dict,
    event_to_dict,
    state_from_dict,
    state_to_dict,
)
from locker_host.domain.ids import ApplicationNumber
from locker_host.domain.pickup_codes import code_matches

from .helpers import (
    ALICE_ID,
    BOB_ID,
    CENTRAL,
    CODE_KEYS,
    DAY,
    PERMITS,
    PROPERTY,
    TAX,
    card,
    clerk,
    code,
    digest,
    owner,
    typed,
)
from .machine import (
    CODES,
    CODES_BY_DIGEST,
    COMPARTMENTS,
    DEPARTMENTS,
    PEOPLE,
    PEOPLE_BY_KEY,
    MachineBase,
)


class LockerMachine(MachineBase):
    # -- citizens ----------------------------------------------------------------

    @rule(person=st.sampled_from(PEOPLE), use=st.booleans(), item_after=st.booleans())
    def pickup_by_card(self, person: str, use: bool, item_after: bool) -> None:
        self._pickup(card(person), use, item_after)

    @rule(
        person=st.sampled_from(PEOPLE),
        value=st.sampled_from([None, *CODES]),
        use=st.booleans(),
        item_after=st.booleans(),
    )
    def pickup_by_typed_number(
        self, person: str, value: str | None, use: bool, item_after: bool
    ) -> None:
        self._pickup(typed(person, value), use, item_after)

    @rule(value=st.sampled_from(CODES), use=st.booleans(), item_after=st.booleans())
    def pickup_by_code(self, value: str, use: bool, item_after: bool) -> None:
        self._pickup(code(value), use, item_after)

    @rule(data=st.data(), how=st.sampled_from(["card", "typed", "code"]), item_after=st.booleans())
    def citizen_comes_for_their_certificate(
        self, data: st.DataObject, how: str, item_after: bool
    ) -> None:
        waiting = sorted(
            {
                (PEOPLE_BY_KEY[item.claim.owner], CODES_BY_DIGEST.get(item.pickup_code))
                for compartment in self.h.s.compartments.values()
                for item in compartment.items
                if item.collectable_by_owner and item.claim.owner is not None
            },
            key=repr,
        )
        person, value = data.draw(st.sampled_from(waiting or [(ALICE_ID, None)]))
        if how == "card" or value is None:
            credential: IdCredential | CodeCredential = card(person)
        else:
            credential = typed(person, value) if how == "typed" else code(value)
        self._pickup(credential, True, item_after)

    def _pickup(
        self, credential: IdCredential | CodeCredential, use: bool, item_after: bool
    ) -> None:
        before = self.h.s
        decision = self._apply(Pickup(credential))
        for open_id in set(decision.state.opens) - set(before.opens):
            compartment = before.compartments[decision.state.opens[open_id].compartment]
            for item in compartment.items:
                if item.item_id not in decision.state.opens[open_id].items:
                    continue
                if isinstance(credential, CodeCredential) or credential.pickup_code:
                    digests = (
                        credential.digests
                        if isinstance(credential, CodeCredential)
                        else credential.pickup_code
                    )
                    assert item.pickup_code is not None
                    assert code_matches(item.pickup_code, digests)
                if isinstance(credential, IdCredential):
                    assert item.claim.owner in credential.owners
        self._then(decision, use, item_after)

    @rule(
        person=st.sampled_from(PEOPLE),
        department=st.sampled_from(DEPARTMENTS),
        size=st.sampled_from(Size),
        accessible=st.booleans(),
        use=st.booleans(),
        item_after=st.booleans(),
    )
    def dropoff_by_card(
        self,
        person: str,
        department: DepartmentId,
        size: Size,
        accessible: bool,
        use: bool,
        item_after: bool,
    ) -> None:
        decision = self._apply(StartDropoff(card(person), department, size, accessible))
        self._then(decision, use, item_after)

    @rule(value=st.sampled_from(CODES), use=st.booleans(), item_after=st.booleans())
    def dropoff_by_code(self, value: str, use: bool, item_after: bool) -> None:
        decision = self._apply(StartDropoff(dropoff_code(CODE_KEYS, value)))
        self._then(decision, use, item_after)

    @rule(data=st.data(), inside=st.booleans())
    @precondition(lambda self: bool(self.h.s.opens))
    def confirm_by_hand(self, data: st.DataObject, inside: bool) -> None:
        open_id = data.draw(st.sampled_from(sorted(self.h.s.opens)))
        actor = self.h.s.opens[open_id].actor
        credential = data.draw(
            st.sampled_from([card(ALICE_ID), card(BOB_ID), code(CODES[0]), clerk(TAX)])
        )
        if isinstance(actor, StaffActor) and data.draw(st.booleans()):
            credential = clerk(actor.department, actor.role)
        self._apply(ConfirmByHand(open_id, credential, inside))

    # -- staff -------------------------------------------------------------------

    @rule(
        department=st.sampled_from(DEPARTMENTS),
        role=st.sampled_from(StaffRole),
        purpose=st.sampled_from([Purpose.COLLECT, Purpose.LOAD, Purpose.RECALL, Purpose.PICKUP]),
        use=st.booleans(),
        item_after=st.booleans(),
    )
    def staff_open(
        self,
        department: DepartmentId,
        role: StaffRole,
        purpose: Purpose,
        use: bool,
        item_after: bool,
    ) -> None:
        decision = self._apply(StaffOpen(clerk(department, role), purpose))
        self._then(decision, use, item_after)

    @rule(data=st.data(), item_after=st.booleans())
    def clerk_works(self, data: st.DataObject, item_after: bool) -> None:
        """A clerk with something to do (most of the time): load, collect or recall."""
        work = sorted(
            {
                (item.claim.department, purpose)
                for compartment in self.h.s.compartments.values()
                for item in compartment.items
                for purpose, wanted in (
                    (Purpose.LOAD, item.stage is ItemStage.EXPECTED),
                    (Purpose.COLLECT, item.kind is ItemKind.DOSSIER),
                    (Purpose.RECALL, item.recallable),
                )
                if wanted
            }
        )
        department, purpose = data.draw(
            st.sampled_from(work or [(TAX, Purpose.COLLECT), (PERMITS, Purpose.RECALL)])
        )
        decision = self._apply(StaffOpen(clerk(department), purpose))
        self._then(decision, True, item_after)

    @rule(
        cid=COMPARTMENTS,
        role=st.sampled_from(StaffRole),
        use=st.booleans(),
        item_after=st.booleans(),
    )
    def maintenance(self, cid: CompartmentId, role: StaffRole, use: bool, item_after: bool) -> None:
        decision = self._apply(MaintenanceOpen(clerk(TAX, role), cid, "check"))
        self._then(decision, use, item_after)

    @rule(cid=COMPARTMENTS, in_service=st.booleans(), by_central=st.booleans())
    def set_service(self, cid: CompartmentId, in_service: bool, by_central: bool) -> None:
        actor = CENTRAL if by_central else clerk(TAX, StaffRole.TECHNICIAN)
        self._apply(SetService(actor, cid, in_service, "test"))

    # -- central -----------------------------------------------------------------

    @rule(
        person=st.sampled_from(PEOPLE),
        department=st.sampled_from(DEPARTMENTS),
        size=st.sampled_from(Size),
        days=st.floats(min_value=-1, max_value=10),
        value=st.sampled_from([None, *CODES[:2]]),
        accessible=st.booleans(),
    )
    def reserve(
        self,
        person: str,
        department: DepartmentId,
        size: Size,
        days: float,
        value: str | None,
        accessible: bool,
    ) -> None:
        application = ApplicationNumber(f"APP-{self.next_application}")
        self.next_application += 1
        code_digest = None if value is None else digest(value)
        self._apply(
            Reserve(
                CENTRAL,
                application,
                owner(person),
                size,
                department,
                self.h.wall_s + days * DAY,
                accessible,
                code_digest,
            )
        )

    @rule(n=st.integers(min_value=1, max_value=12))
    def cancel(self, n: int) -> None:
        self._apply(Cancel(CENTRAL, ApplicationNumber(f"APP-{n}")))

    @rule(n=st.integers(min_value=1, max_value=12), days=st.floats(min_value=-1, max_value=10))
    def extend(self, n: int, days: float) -> None:
        self._apply(
            ExtendDeadline(CENTRAL, ApplicationNumber(f"APP-{n}"), self.h.wall_s + days * DAY)
        )

    @rule(
        value=st.sampled_from(CODES),
        size=st.sampled_from(Size),
        department=st.sampled_from(DEPARTMENTS),
    )
    def expect_dropoff(self, value: str, size: Size, department: DepartmentId) -> None:
        application = ApplicationNumber(f"APP-{self.next_application}")
        self.next_application += 1
        self._apply(
            ExpectDropoff(
                CENTRAL,
                application,
                department,
                size,
                digest(value, CodePurpose.DROPOFF),
                self.h.wall_s + DAY,
            )
        )

    @rule(cid=COMPARTMENTS, stale=st.booleans(), use=st.booleans(), item_after=st.booleans())
    def remote_open(self, cid: CompartmentId, stale: bool, use: bool, item_after: bool) -> None:
        expires = self.h.wall_s + (-1 if stale else 60)
        decision = self._apply(RemoteOpen(CENTRAL, cid, "remote", expires))
        self._then(decision, use, item_after)

    @rule(department=st.sampled_from([None, *DEPARTMENTS]))
    def queries(self, department: DepartmentId | None) -> None:
        before = self.h.s
        assert self._apply(RecallList(CENTRAL, department)).state == before
        assert self._apply(Inventory(CENTRAL)).state == before

    # -- invariants ------------------------------------------------------------------

    @invariant()
    def one_claim_per_compartment(self) -> None:
        seen: set[ItemId] = set()
        for compartment in self.h.s.compartments.values():
            for item in compartment.items:
                assert item.item_id not in seen, "an item in two compartments"
                seen.add(item.item_id)
                assert item.claim == compartment.claim, "two owners or departments at once"
            if compartment.state in (CompartmentState.FREE, CompartmentState.OUT_OF_SERVICE):
                assert not compartment.items and compartment.claim is None
            if compartment.state is CompartmentState.DROPOFF:
                assert compartment.claim is not None and compartment.open_id is not None
            if compartment.items:
                assert compartment.claim is not None

    @invariant()
    def opens_and_compartments_agree(self) -> None:
        for open_id, open_ in self.h.s.opens.items():
            assert self.h.s.compartments[open_.compartment].open_id == open_id
            assert not open_.state.terminal
        for compartment in self.h.s.compartments.values():
            if compartment.open_id is not None:
                assert compartment.open_id in self.h.s.opens

    @invariant()
    def round_trips_through_json_without_id_numbers(self) -> None:
        text = json.dumps(state_to_dict(self.h.s))
        assert state_from_dict(json.loads(text)) == self.h.s
        if self.last is not None:
            for event in self.last.events:
                encoded = json.dumps(event_to_dict(event))
                assert event_from_dict(json.loads(encoded)) == event
                text += encoded
        for number in PEOPLE:
            assert number not in text


TestLockerMachine = LockerMachine.TestCase
TestLockerMachine.settings = settings(PROPERTY, stateful_step_count=50)
