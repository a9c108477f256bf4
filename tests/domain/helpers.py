"""Builders and a small harness that drives the domain like the app would."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hypothesis import settings

from locker_host.domain import (
    BoardAddress,
    BoardRead,
    BoardRef,
    BusId,
    CentralActor,
    ChannelReading,
    CodeCredential,
    CodeDigest,
    CodePurpose,
    Command,
    Compartment,
    CompartmentId,
    CompartmentSpec,
    Decision,
    DepartmentId,
    DoorClosed,
    DoorOpened,
    Event,
    IdCredential,
    ItemSensed,
    Keyring,
    Layout,
    LockerConfig,
    LockerPolicy,
    LockerState,
    Now,
    Observation,
    OwnerRef,
    PowerSupplyId,
    PulseLock,
    Sensor,
    Size,
    StaffCredential,
    StaffId,
    StaffRole,
    Wiring,
    code_digest,
    decide,
    id_card,
    initial_state,
    next_deadline,
    on_timer,
    owner_refs,
    pickup_code,
    typed_id_number,
    validate_id_number,
)

# Bounded so the whole tests/domain run stays well under a minute; raise it with
# DOMAIN_EXAMPLES=2000 when hunting. Applied per test, so other packages' Hypothesis
# settings are left alone.
EXAMPLES = int(os.environ.get("DOMAIN_EXAMPLES", "80"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None)

OWNER_KEYS = Keyring({1: b"owner-secret-version-1!!", 2: b"owner-secret-version-2!!"}, 2)
CODE_KEYS = Keyring({1: b"code-secret-version-1!!!"}, 1)

# Valid GB 11643 numbers (test fixtures, not real people).
ALICE_ID = "11010519491231002X"
BOB_ID = "360426199101010071"
CAROL_ID = "810000199001010019"  # a Hong Kong residence permit shape

BOARD1 = BoardRef(BusId("bus0"), BoardAddress(1))
BOARD2 = BoardRef(BusId("bus0"), BoardAddress(2))
BOARD3 = BoardRef(BusId("bus1"), BoardAddress(1))
ALL_SENSORS = frozenset({Sensor.DOOR_SWITCH, Sensor.ITEM_SENSOR})
HIGH, LOW = 1_500, 700

TAX = DepartmentId("tax")
PERMITS = DepartmentId("permits")
CENTRAL = CentralActor("central", "cmd-1")
DAY = 86_400.0
T0_WALL = 1_700_000_000.0


def spec(
    cid: str,
    size: Size,
    board: BoardRef,
    channel: int,
    psu: str,
    height: int = HIGH,
    sensors: frozenset[Sensor] = ALL_SENSORS,
) -> CompartmentSpec:
    return CompartmentSpec(
        CompartmentId(cid), size, Wiring(board, channel, PowerSupplyId(psu)), sensors, height
    )


def standard_layout() -> Layout:
    return Layout(
        (
            spec("A01", Size.S, BOARD1, 1, "psu1"),
            spec("A02", Size.S, BOARD1, 2, "psu1", LOW),
            spec("A03", Size.M, BOARD1, 3, "psu1"),
            spec("A04", Size.L, BOARD1, 4, "psu1", LOW),
            spec("B01", Size.S, BOARD2, 1, "psu2"),
            spec("B02", Size.M, BOARD2, 2, "psu2"),
            spec("B03", Size.M, BOARD2, 3, "psu2", LOW),
            spec("B04", Size.L, BOARD2, 4, "psu2"),
            # Degraded compartments (DESIGN.md section 4, last paragraph).
            spec("C01", Size.M, BOARD3, 1, "psu2", sensors=frozenset({Sensor.DOOR_SWITCH})),
            spec("C02", Size.M, BOARD3, 2, "psu2", sensors=frozenset({Sensor.ITEM_SENSOR})),
        )
    )


def config(layout: Layout | None = None, policy: LockerPolicy | None = None) -> LockerConfig:
    return LockerConfig("hh", "L1", layout or standard_layout(), policy or LockerPolicy())


def owner(id_number: str) -> OwnerRef:
    return owner_refs(OWNER_KEYS, validate_id_number(id_number))[0]


def card(id_number: str) -> IdCredential:
    return id_card(OWNER_KEYS, id_number)


def typed(id_number: str, code: str | None = None) -> IdCredential:
    return typed_id_number(OWNER_KEYS, id_number, CODE_KEYS, code)


def code(value: str) -> CodeCredential:
    return pickup_code(CODE_KEYS, value)


def digest(value: str, purpose: CodePurpose = CodePurpose.PICKUP) -> CodeDigest:
    return code_digest(CODE_KEYS, purpose, value, CODE_KEYS.current)


def clerk(department: DepartmentId = TAX, role: StaffRole = StaffRole.CLERK) -> StaffCredential:
    return StaffCredential(StaffId(f"{role.value}-{department}"), department, role)


def reading(cid: str, door_open: bool | None, item: bool | None) -> ChannelReading:
    return ChannelReading(CompartmentId(cid), door_open, item)


@dataclass
class Harness:
    """Drives the domain as the app would: decide, keep the state, remember the rest."""

    config: LockerConfig = field(default_factory=config)
    mono_s: float = 1_000.0
    wall_s: float = T0_WALL
    clock_trusted: bool = True
    state: LockerState | None = None
    decisions: list[Decision] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.state is None:
            self.state = initial_state(self.config)

    @property
    def now(self) -> Now:
        return Now(self.mono_s, self.wall_s, self.clock_trusted)

    @property
    def s(self) -> LockerState:
        assert self.state is not None
        return self.state

    def send(self, message: Command | Observation) -> Decision:
        decision = decide(self.config, self.s, message, self.now)
        self.state = decision.state
        self.decisions.append(decision)
        return decision

    def ok(self, message: Command) -> Decision:
        decision = self.send(message)
        assert decision.refusal is None, decision.refusal
        return decision

    def refused(self, message: Command, code: str) -> Decision:
        decision = self.send(message)
        assert decision.refusal is not None, f"expected {code}, got {decision.reply}"
        assert decision.refusal.code == code, decision.refusal
        assert decision.audit and not decision.audit[-1].granted
        assert decision.audit[-1].refusal_code == code
        assert not any(isinstance(e, PulseLock) for e in decision.effects)
        return decision

    def boards_online(self) -> None:
        """First good poll of every board: all doors shut, all compartments empty."""
        for board in self.config.layout.boards():
            readings = tuple(
                reading(
                    s.id,
                    False if s.has_door_switch else None,
                    False if s.has_item_sensor else None,
                )
                for s in self.config.layout.on_board(board)
            )
            self.send(BoardRead(board, readings))

    def advance(self, seconds: float) -> Decision:
        self.mono_s += seconds
        self.wall_s += seconds
        decision = on_timer(self.config, self.s, self.now)
        self.state = decision.state
        self.decisions.append(decision)
        return decision

    def run_timers_until_idle(self, limit: int = 50) -> list[Decision]:
        """Call on_timer at each reported deadline up to ``limit`` times."""
        out = []
        for _ in range(limit):
            deadline = next_deadline(self.config, self.s, clock_trusted=self.clock_trusted)
            if deadline.mono_s is None and deadline.wall_s is None:
                break
            mono_wait = None if deadline.mono_s is None else deadline.mono_s - self.mono_s
            wall_wait = None if deadline.wall_s is None else deadline.wall_s - self.wall_s
            waits = [w for w in (mono_wait, wall_wait) if w is not None]
            out.append(self.advance(max(min(waits), 0.0)))
        return out

    def door(self, cid: str, *, opened: bool, item: bool | None = None) -> Decision:
        if opened:
            return self.send(DoorOpened(CompartmentId(cid)))
        return self.send(DoorClosed(CompartmentId(cid), item))

    def item(self, cid: str, present: bool) -> Decision:
        return self.send(ItemSensed(CompartmentId(cid), present))

    def use(self, cid: str, *, item_after: bool) -> list[Decision]:
        """A person opens the door, changes the contents, closes it."""
        return [
            self.door(cid, opened=True),
            self.item(cid, item_after),
            self.door(cid, opened=False, item=item_after),
        ]

    def events(self) -> list[Event]:
        return [e for d in self.decisions for e in d.events]

    def event_names(self) -> list[str]:
        return [e.name for e in self.events()]

    def compartment(self, cid: str) -> Compartment:
        return self.s.compartments[CompartmentId(cid)]
