"""``Decision``, and the transaction builder the flows write into.

A flow receives a ``Tx``: the state so far, the clock, and lists for effects,
audit records and events. It replaces whole frozen values in ``Tx.state`` and
appends to the lists; ``Tx`` never escapes ``decide``/``on_timer``, so the
domain stays pure at its surface.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .actors import Actor
from .alarms import prune_acks
from .audit import AuditRecord
from .compartment import Compartment
from .effects import Effect
from .errors import LockerError
from .events import Event
from .ids import CompartmentId, OpenId, ReceiptNumber
from .layout import CompartmentSpec
from .opens import Open
from .replies import Reply
from .state import LockerConfig, LockerState, Now, board_online


@dataclass(frozen=True)
class Decision:
    state: LockerState
    effects: tuple[Effect, ...] = ()
    audit: tuple[AuditRecord, ...] = ()
    events: tuple[Event, ...] = ()
    reply: Reply | None = None
    # A refused command: the error to answer with. ``state`` may still have
    # changed (a wrong code counts towards a lockout) and ``audit`` holds the denial.
    refusal: LockerError | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


@dataclass
class Tx:
    config: LockerConfig
    state: LockerState
    now: Now
    effects: list[Effect] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    reply: Reply | None = None
    # What survives a refusal (a lockout counter), set by the flow before it raises.
    state_if_refused: LockerState | None = None
    events_if_refused: list[Event] = field(default_factory=list)

    def spec(self, compartment: CompartmentId) -> CompartmentSpec:
        return self.config.layout.spec(compartment)

    def compartment(self, compartment: CompartmentId) -> Compartment:
        return self.state.compartments[compartment]

    def put(self, compartment: Compartment) -> None:
        compartments = dict(self.state.compartments)
        compartments[compartment.id] = compartment
        self.state = replace(self.state, compartments=compartments)

    def put_open(self, open_: Open) -> None:
        opens = dict(self.state.opens)
        opens[open_.open_id] = open_
        self.state = replace(self.state, opens=opens)

    def drop_open(self, open_id: OpenId) -> None:
        opens = {k: v for k, v in self.state.opens.items() if k != open_id}
        self.state = replace(self.state, opens=opens)

    def new_open_id(self) -> OpenId:
        seq = self.state.next_open_seq
        self.state = replace(self.state, next_open_seq=seq + 1)
        return OpenId(f"{self.config.locker}-O{seq:07d}")

    def new_receipt(self) -> ReceiptNumber:
        seq = self.state.next_receipt_seq
        self.state = replace(self.state, next_receipt_seq=seq + 1)
        return ReceiptNumber(f"{self.config.site}-{self.config.locker}-R{seq:07d}")

    def online(self, compartment: CompartmentId) -> bool:
        return board_online(self.state, self.spec(compartment).wiring.board)

    def record(
        self,
        actor: Actor,
        action: str,
        *,
        granted: bool,
        compartment: CompartmentId | None = None,
        open_id: OpenId | None = None,
        refusal_code: str | None = None,
        detail: str = "",
    ) -> None:
        self.audit.append(
            AuditRecord(
                at_wall_s=self.now.wall_s,
                clock_trusted=self.now.clock_trusted,
                actor=actor,
                action=action,
                granted=granted,
                compartment=compartment,
                open_id=open_id,
                refusal_code=refusal_code,
                detail=detail,
            )
        )

    def decision(self) -> Decision:
        # Every decision ends here: an acknowledgement outlives its alarm nowhere.
        state = prune_acks(self.state)
        return Decision(
            state, tuple(self.effects), tuple(self.audit), tuple(self.events), self.reply
        )
