"""The locker aggregate's entry points: ``decide``, ``next_deadline``, ``on_timer``.

``decide(config, state, message, now)`` takes one command or observation and
returns a ``Decision``: the new state, effects (pulse a lock, read a board),
audit records and outgoing events, plus a reply or a refusal. The app saves
state, audit and events in one transaction, then carries out the effects.

* Observations never refuse: an unexpected one becomes an alarm or a fault.
* A refused command comes back as ``Decision.refusal`` (a ``LockerError`` with a
  stable ``code``) together with an audited denial; its state changes are
  discarded except what the flow marked to survive (a wrong-code counter).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import assert_never

from .acknowledge import acknowledge_alarm
from .actors import Actor, CentralActor
from .auth import actor_of
from .central import (
    cancel,
    expect_dropoff,
    extend_deadline,
    inventory,
    recall_list,
    remote_open,
    reserve,
)
from .citizen import confirm_by_hand, pickup, start_dropoff
from .commands import (
    AcknowledgeAlarm,
    Cancel,
    Command,
    ConfirmByHand,
    ExpectDropoff,
    ExtendDeadline,
    Inventory,
    MaintenanceOpen,
    Pickup,
    RecallList,
    RemoteOpen,
    Reserve,
    SetService,
    StaffOpen,
    StaffSwipe,
    StartDropoff,
)
from .decision import Decision, Tx
from .errors import LockerError
from .ids import CompartmentId
from .observations import (
    BoardRead,
    BoardUnreachable,
    DoorClosed,
    DoorOpened,
    ItemSensed,
    Observation,
    PulseNotAcknowledged,
    Restarted,
)
from .physical import observe
from .staff import maintenance_open, set_service, staff_open, staff_swipe
from .state import LockerConfig, LockerState, Now

_OBSERVATIONS = (
    DoorOpened,
    DoorClosed,
    ItemSensed,
    BoardRead,
    BoardUnreachable,
    PulseNotAcknowledged,
    Restarted,
)


def decide(
    config: LockerConfig, state: LockerState, message: Command | Observation, now: Now
) -> Decision:
    tx = Tx(config, state, now)
    if isinstance(message, _OBSERVATIONS):
        observe(tx, message)
        return tx.decision()
    try:
        _handle(tx, message)
    except LockerError as error:
        refused = Tx(config, tx.state_if_refused or state, now)
        refused.events.extend(tx.events_if_refused)
        refused.record(
            command_actor(message),
            command_name(message),
            granted=False,
            compartment=_named_compartment(message),
            refusal_code=error.code,
            detail=error.message,
        )
        return replace(refused.decision(), refusal=error)
    return tx.decision()


def _handle(tx: Tx, command: Command) -> None:
    match command:
        case StartDropoff():
            start_dropoff(tx, command)
        case Pickup():
            pickup(tx, command)
        case ConfirmByHand():
            confirm_by_hand(tx, command)
        case StaffOpen():
            staff_open(tx, command)
        case StaffSwipe():
            staff_swipe(tx, command)
        case MaintenanceOpen():
            maintenance_open(tx, command)
        case SetService():
            set_service(tx, command)
        case Reserve():
            reserve(tx, command)
        case Cancel():
            cancel(tx, command)
        case ExpectDropoff():
            expect_dropoff(tx, command)
        case ExtendDeadline():
            extend_deadline(tx, command)
        case RecallList():
            recall_list(tx, command)
        case RemoteOpen():
            remote_open(tx, command)
        case Inventory():
            inventory(tx, command)
        case AcknowledgeAlarm():
            acknowledge_alarm(tx, command)
        case _:
            # A command type without a handler is a type error here (mypy), and
            # never an empty successful decision at run time.
            assert_never(command)


def command_name(command: Command) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(command).__name__).lower()


def command_actor(command: Command) -> Actor:
    match command:
        case StartDropoff(credential=credential) | Pickup(credential=credential):
            return actor_of(credential)
        case ConfirmByHand(credential=credential):
            return actor_of(credential)
        case StaffOpen(staff=staff) | StaffSwipe(staff=staff) | MaintenanceOpen(staff=staff):
            return actor_of(staff)
        case SetService(actor=actor):
            return actor if isinstance(actor, CentralActor) else actor_of(actor)
        case (
            Reserve()
            | Cancel()
            | ExpectDropoff()
            | ExtendDeadline()
            | RecallList()
            | RemoteOpen()
            | Inventory()
            | AcknowledgeAlarm()
        ):
            return command.actor
        case _:
            assert_never(command)


def _named_compartment(command: Command) -> CompartmentId | None:
    match command:
        case (
            MaintenanceOpen(compartment=cid)
            | RemoteOpen(compartment=cid)
            | SetService(compartment=cid)
        ):
            return cid
    return None
