"""Observations: the physical truth (DESIGN.md section 4.7 and 4.8). Never refused.

* Door opened with no open under way: ``door.forced`` alarm, compartment faulty.
* Item appears in a closed compartment that should be empty:
  ``item.unexpected``; item vanishes from a closed one: ``item.missing``. Both
  make the compartment faulty until staff look.
* Board unreachable: ``board.offline``, its compartments read ``unknown``
  (never ``closed``), and opens under way end ``outcome_unknown``.
* A board read after ``unknown`` (start-up, board back) reconciles: it sets the
  readings without a forced-door alarm (we cannot know what happened while we
  could not see) but checks the items against the records.
* Restart: opens under way end ``outcome_unknown`` and are never re-executed;
  nothing opens by itself; every reading is ``unknown`` until the first read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import assert_never

from .actors import SystemActor
from .compartment import (
    CompartmentInput,
    DoorReading,
    FaultReason,
    ItemReading,
    Physical,
    transition,
)
from .decision import Tx
from .events import (
    BoardOffline,
    BoardOnline,
    DoorForced,
    ItemMissing,
    ItemUnexpected,
    LockerRestarted,
)
from .ids import CompartmentId
from .layout import BoardRef
from .observations import (
    BoardRead,
    BoardUnreachable,
    ChannelReading,
    DoorClosed,
    DoorOpened,
    ItemSensed,
    Observation,
    PulseNotAcknowledged,
    Restarted,
)
from .opening import advance
from .opens import OpenInput, OpenState
from .pickup_codes import rebase_after_restart
from .state import BoardStatus

_SENSOR = SystemActor("sensor")


def observe(tx: Tx, observation: Observation) -> None:
    match observation:
        case DoorOpened(compartment=cid) if _known(tx, cid):
            _door_opened(tx, cid)
        case DoorClosed(compartment=cid, item_present=present) if _known(tx, cid):
            _door_closed(tx, cid, _item(present))
        case ItemSensed(compartment=cid, present=present) if _known(tx, cid):
            _item_sensed(tx, cid, _item(present))
        case BoardRead(board=board, readings=readings):
            _board_read(tx, board, readings)
        case BoardUnreachable(board=board):
            _board_unreachable(tx, board)
        case PulseNotAcknowledged(open_id=open_id) if open_id in tx.state.opens:
            advance(tx, tx.state.opens[open_id], OpenInput.BOARD_LOST)
        case Restarted():
            _restarted(tx)
        case DoorOpened() | DoorClosed() | ItemSensed() | PulseNotAcknowledged():
            # A fact about something we do not know (a compartment not in the
            # layout, an open already finished): keep it in the audit trail.
            tx.record(_SENSOR, "unmatched_observation", granted=False, detail=repr(observation))
        case _:
            assert_never(observation)


def _known(tx: Tx, compartment: CompartmentId) -> bool:
    return compartment in tx.state.compartments


def _item(present: bool | None) -> ItemReading:
    if present is None:
        return ItemReading.UNKNOWN
    return ItemReading.PRESENT if present else ItemReading.ABSENT


def _door_opened(tx: Tx, cid: CompartmentId) -> None:
    compartment = tx.compartment(cid)
    before = compartment.physical.door
    if before is DoorReading.OPEN:
        return
    physical = replace(
        compartment.physical,
        door=DoorReading.OPEN,
        door_open_since_mono_s=tx.now.mono_s,
        ajar_reported=False,
    )
    tx.put(replace(compartment, physical=physical))
    if compartment.open_id is not None:
        advance(tx, tx.state.opens[compartment.open_id], OpenInput.DOOR_OPENED)
    elif before is DoorReading.CLOSED:
        _alarm(tx, cid, FaultReason.FORCED)


def _door_closed(tx: Tx, cid: CompartmentId, item: ItemReading) -> None:
    compartment = tx.compartment(cid)
    physical = Physical(
        door=DoorReading.CLOSED,
        item=item if item is not ItemReading.UNKNOWN else compartment.physical.item,
    )
    tx.put(replace(compartment, physical=physical))
    if compartment.open_id is not None:
        has_item_sensor = tx.spec(cid).has_item_sensor
        event = OpenInput.DOOR_CLOSED if has_item_sensor else OpenInput.DOOR_CLOSED_UNSENSED
        advance(tx, tx.state.opens[compartment.open_id], event)
    else:
        _check_contents(tx, cid)


def _item_sensed(tx: Tx, cid: CompartmentId, item: ItemReading) -> None:
    compartment = tx.compartment(cid)
    tx.put(replace(compartment, physical=replace(compartment.physical, item=item)))
    if compartment.open_id is None and compartment.physical.door is DoorReading.CLOSED:
        _check_contents(tx, cid)


def _check_contents(tx: Tx, cid: CompartmentId) -> None:
    compartment = tx.compartment(cid)
    reading = compartment.physical.item
    inside = compartment.items_inside
    # One alarm per episode: a fault already recorded is not raised again.
    if reading is ItemReading.PRESENT and not inside:
        fault = FaultReason.UNEXPECTED_ITEM
        event: ItemUnexpected | ItemMissing = ItemUnexpected(cid)
    elif reading is ItemReading.ABSENT and inside:
        fault = FaultReason.MISSING_ITEM
        event = ItemMissing(cid, tuple(i.item_id for i in inside))
    else:
        return
    if fault not in compartment.faults:
        tx.events.append(event)
        _alarm(tx, cid, fault)


def _alarm(tx: Tx, cid: CompartmentId, fault: FaultReason) -> None:
    if fault is FaultReason.FORCED:
        tx.events.append(DoorForced(cid))
    tx.record(_SENSOR, fault.value, granted=False, compartment=cid)
    tx.put(transition(tx.compartment(cid), CompartmentInput.FAULT, fault=fault))


def _board_read(tx: Tx, board: BoardRef, readings: tuple[ChannelReading, ...]) -> None:
    if tx.state.boards.get(board.key) is BoardStatus.OFFLINE:
        tx.events.append(BoardOnline(board.key))
    tx.state = replace(tx.state, boards={**tx.state.boards, board.key: BoardStatus.ONLINE})
    on_board = {spec.id for spec in tx.config.layout.on_board(board)}
    for reading in readings:
        if reading.compartment in on_board:
            _apply_reading(tx, reading)


def _apply_reading(tx: Tx, reading: ChannelReading) -> None:
    cid = reading.compartment
    compartment = tx.compartment(cid)
    item = _item(reading.item_present)
    door = {None: DoorReading.UNKNOWN, True: DoorReading.OPEN, False: DoorReading.CLOSED}[
        reading.door_open
    ]
    before = compartment.physical
    if before.door is DoorReading.UNKNOWN or door is DoorReading.UNKNOWN:
        # Reconcile: set what we see; no forced-door alarm for an unseen past.
        since = tx.now.mono_s if door is DoorReading.OPEN else None
        tx.put(replace(compartment, physical=Physical(door, item, since)))
        if door is DoorReading.CLOSED and compartment.open_id is None:
            _check_contents(tx, cid)
    elif door is DoorReading.OPEN and before.door is DoorReading.CLOSED:
        tx.put(replace(compartment, physical=replace(before, item=item)))
        _door_opened(tx, cid)
    elif door is DoorReading.CLOSED and before.door is DoorReading.OPEN:
        _door_closed(tx, cid, item)
    elif item is not before.item:
        _item_sensed(tx, cid, item)
    open_id = tx.compartment(cid).open_id
    if open_id is not None and door is DoorReading.CLOSED:
        open_ = tx.state.opens[open_id]
        if open_.state is OpenState.CONFIRMING:
            advance(tx, open_, OpenInput.READ_SHUT)


def _board_unreachable(tx: Tx, board: BoardRef) -> None:
    if tx.state.boards.get(board.key) is not BoardStatus.OFFLINE:
        tx.events.append(BoardOffline(board.key))
        tx.state = replace(tx.state, boards={**tx.state.boards, board.key: BoardStatus.OFFLINE})
    for spec in tx.config.layout.on_board(board):
        open_id = tx.compartment(spec.id).open_id
        if open_id is not None:
            advance(tx, tx.state.opens[open_id], OpenInput.BOARD_LOST)
        tx.put(replace(tx.compartment(spec.id), physical=Physical()))


def _restarted(tx: Tx) -> None:
    open_ids = list(tx.state.opens)
    for open_id in open_ids:
        advance(tx, tx.state.opens[open_id], OpenInput.RESTARTED)
    for cid in tx.state.compartments:
        tx.put(replace(tx.compartment(cid), physical=Physical()))
    boards = dict.fromkeys(tx.state.boards, BoardStatus.UNKNOWN)
    guard = rebase_after_restart(tx.state.code_guard, tx.config.policy, tx.now.mono_s)
    tx.state = replace(tx.state, boards=boards, code_guard=guard)
    tx.events.append(LockerRestarted(len(open_ids)))
    tx.record(SystemActor("restart"), "restarted", granted=True, detail=f"{len(open_ids)} opens")
