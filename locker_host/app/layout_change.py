"""Bringing the saved state in line with the configured layout, at start-up.

The layout is configuration (``LockerConfig.layout``); the state was saved
under whatever layout ran before. A compartment is identified by its id (the
label on the door), so:

* a new id is added as a free compartment (readings unknown until its board
  is read);
* an id that disappears is dropped only when nothing depends on it: no item
  (expected or inside), no claim (a drop-off under way), no open. Otherwise
  the whole change is refused (``LayoutOrphansItems``) and nothing is written:
  the item is physically behind that door, and the records must keep pointing
  at it until staff have taken it out. The operator empties it first, or keeps
  the id in the layout;
* an id that stays keeps everything, whatever changed in its spec (size,
  wiring, sensors, height): the door and what is behind it did not move;
* boards follow the layout; a new one is ``unknown`` until read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from locker_host.domain import (
    BoardStatus,
    Compartment,
    CompartmentId,
    LockerConfig,
    LockerState,
)

from .errors import LayoutOrphansItems


@dataclass(frozen=True)
class LayoutChange:
    added: tuple[CompartmentId, ...] = ()
    removed: tuple[CompartmentId, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def in_use(compartment: Compartment) -> bool:
    return bool(compartment.items or compartment.claim or compartment.open_id)


def reconcile_layout(config: LockerConfig, state: LockerState) -> tuple[LockerState, LayoutChange]:
    wanted = config.layout.by_id
    removed = tuple(sorted(cid for cid in state.compartments if cid not in wanted))
    orphaned = tuple(cid for cid in removed if in_use(state.compartments[cid]))
    # An open names its compartment; one on a removed id is covered by ``open_id`` above,
    # this catches a state whose opens and compartments disagree.
    stray = {o.compartment for o in state.opens.values() if o.compartment not in wanted}
    orphaned += tuple(sorted(stray - set(orphaned)))
    if orphaned:
        raise LayoutOrphansItems(tuple(str(cid) for cid in orphaned))
    added = tuple(spec.id for spec in config.layout if spec.id not in state.compartments)
    compartments = {
        spec.id: state.compartments.get(spec.id, Compartment(spec.id)) for spec in config.layout
    }
    boards = {
        board.key: state.boards.get(board.key, BoardStatus.UNKNOWN)
        for board in config.layout.boards()
    }
    updated = replace(state, compartments=compartments, boards=boards)
    return updated, LayoutChange(added, removed)
