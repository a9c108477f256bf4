"""`lockerd commission walk`: prove the wiring map one door at a time.

For each compartment, with the locker empty and every door shut:

1. read its board (and every board of its bus): the baseline. A door switch
   should read *closed* and an item sensor *absent*; the opposite is
   recorded as inverted polarity (or a door left open, or something inside);
2. pulse the lock once (board-timed, never repeated);
3. wait for the door switch of *that* channel to move (a reading that
   differs from the baseline, or the reference board's latch) and for no
   other door of the bus to move: a pulse that opens another door means the
   map is wrong, which is the fault this walk exists to find. Interactive,
   the technician also confirms that the door that opened carries the
   compartment's label: on a reference board the lock and the sensors of a
   compartment share one channel, so two swapped labels look right to the
   sensors and only a person can see them (`--auto` proves channels and
   sensors, not labels);
4. interactive (the default): the technician is asked to put a test item in
   (the item sensor must change), take it out and close the door (both back
   to the baseline); with `--auto`, the door must close again by itself (the
   simulator's automatic user, or a test rig), and the item sensor, which
   nothing changes, must read absent;
5. pass or fail, with the polarity seen and why it failed.

A compartment without a door switch cannot prove itself: interactive mode
asks the technician whether that door opened; `--auto` fails it.

Polarity is a board's setting, so it is checked per board before any pulse:
when every door switch of a board (two or more) reads open with the doors
shut, or every item sensor reads something in the empty locker, the switches
are of the other kind (NO/NC hooks: kerong-lib's NCU16L reads 0 = locked,
the CU48 document 1 = locked). The walk says once which key to set to what
(`polarity = { hook_inverted = true }` on that board, as the configuration
spells it for the board's family), fails that board's compartments with the
same words, and pulses none of them: after the one change, walk again.

Waiting is by reading the board every `poll_s` (`read_now`), each wait
bounded by `step_timeout_s`; the walk never pulses twice. A lost reply is not
a dead board: the baseline is read again while the board is `suspect`, and
also while it is `offline`, until the step's deadline. A few replies lost in
a row (a busy host, or a simulator starved of CPU: four response timeouts,
some 200 ms at 115200 bps) make a board `offline`, and an offline board is
not read again before its probe is due, so a baseline that took `offline`
for an answer failed that compartment and, within microseconds, every later
one of the board (seen in CI: A03-A08 of the mixed site). A board that has
not answered through a whole step's deadline is not waited for again: its
later compartments are read once and fail at once if it is still silent,
so a dead board costs one step's deadline, not one per compartment.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from locker_host.bus import (
    BoardId,
    BoardSnapshot,
    BusOwner,
    ChannelState,
    DoorState,
    Health,
    ItemState,
)
from locker_host.bus import UnlockOutcome as Unlock
from locker_host.domain import CompartmentSpec, Layout

from ..config.buses import polarity_key
from ..translate import board_id
from .record import CompartmentResult

Say = Callable[[str], None]
Ask = Callable[[str], bool]
ChannelTest = Callable[[BoardSnapshot], bool]


@dataclass(frozen=True)
class WalkSettings:
    auto: bool
    step_timeout_s: float = 60.0
    poll_s: float = 0.05
    pulse_ms: int = 500


class _Failed(Exception):
    def __init__(self, detail: str, door: str = "", item: str = "") -> None:
        super().__init__(detail)
        self.detail, self.door, self.item = detail, door, item


class Walker:
    def __init__(
        self,
        owners: Mapping[str, BusOwner],
        layout: Layout,
        settings: WalkSettings,
        *,
        say: Say,
        ask: Ask,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._owners = owners
        self._layout = layout
        self._settings = settings
        self._say = say
        self._ask = ask
        self._clock = clock
        # Boards that did not answer through a whole step's deadline: not waited for again.
        self._silent: set[BoardId] = set()

    async def walk(self, specs: Iterable[CompartmentSpec]) -> dict[str, CompartmentResult]:
        specs = list(specs)
        inverted = await self._board_polarity(specs)
        results: dict[str, CompartmentResult] = {}
        for spec in specs:
            found = inverted.get(board_id(spec.wiring.board))
            if found is not None:
                walked_at = datetime.now(UTC).isoformat(timespec="seconds")
                result = CompartmentResult(spec.id, False, *found, walked_at)
            else:
                result = await self.walk_one(spec)
            verdict = "PASS" if result.passed else "FAIL"
            self._say(
                f"{spec.id}: {verdict} (door {result.door}, item {result.item}) {result.detail}"
            )
            results[spec.id] = result
        return results

    async def _board_polarity(
        self, specs: list[CompartmentSpec]
    ) -> dict[BoardId, tuple[str, str, str]]:
        """Boards whose door or item polarity setting reads the other way:
        (door, item, detail) for each of their compartments."""
        found: dict[BoardId, tuple[str, str, str]] = {}
        for bus, owner in self._owners.items():
            boards = await self._read_bus(owner)
            for board, snapshot in boards.items():
                mine = [s for s in specs if board_id(s.wiring.board) == board]
                if snapshot.health is not Health.ONLINE or not mine:
                    continue
                doors = [snapshot.channel(s.wiring.channel).door for s in mine if s.has_door_switch]
                items = [snapshot.channel(s.wiring.channel).item for s in mine if s.has_item_sensor]
                wrong = []
                if len(doors) > 1 and all(d is DoorState.OPEN for d in doors):
                    wrong.append(("door", "every door switch reads open with the doors shut"))
                if len(items) > 1 and all(i is ItemState.PRESENT for i in items):
                    wrong.append(("item", "every item sensor reads an item in the empty locker"))
                if not wrong:
                    continue
                config = owner.config.board(board.unit)
                assert config is not None  # the owner drives only its configured boards
                changes = []
                for sensor, _ in wrong:
                    flipped = not getattr(config.polarity, f"{sensor}_inverted")
                    key = polarity_key(config.family, sensor)
                    changes.append(f"{key} = {str(flipped).lower()}")
                setting = f"polarity = {{ {', '.join(changes)} }}"
                seen = "; ".join(why for _, why in wrong)
                where = f"the board with unit = {board.unit} of bus {bus}"
                self._say(
                    f"{board}: {seen}: its polarity setting reads the other way; "
                    f"set {setting} on {where}, then walk again (no lock of it was pulsed)"
                )
                door = "inverted" if any(s == "door" for s, _ in wrong) else "unverified"
                item = "inverted" if any(s == "item" for s, _ in wrong) else "unverified"
                found[board] = (door, item, f"polarity of {board}: set {setting} on {where}")
        return found

    async def walk_one(self, spec: CompartmentSpec) -> CompartmentResult:
        door = "unverified" if spec.has_door_switch else "not_fitted"
        item = "unverified" if spec.has_item_sensor else "not_fitted"
        try:
            door, item, detail = await self._walk(spec, door, item)
            passed = True
        except _Failed as failed:
            door, item = failed.door or door, failed.item or item
            detail, passed = failed.detail, False
        walked_at = datetime.now(UTC).isoformat(timespec="seconds")
        return CompartmentResult(spec.id, passed, door, item, detail, walked_at)

    async def _walk(self, spec: CompartmentSpec, door: str, item: str) -> tuple[str, str, str]:
        board, channel = board_id(spec.wiring.board), spec.wiring.channel
        owner = self._owners[board.bus]
        before = await self._baseline(owner, board)
        baseline = before[board]
        if baseline.health is not Health.ONLINE:
            raise _Failed(f"{board} does not answer: {baseline.detail or baseline.health.value}")
        start = baseline.channel(channel)
        if spec.has_door_switch and start.door is DoorState.NO_SENSOR:
            raise _Failed(f"a door switch is declared but {board} has none fitted")
        if spec.has_item_sensor and start.item is ItemState.NO_SENSOR:
            raise _Failed(f"an item sensor is declared but {board} has none fitted")
        if not self._settings.auto:
            self._say(f"{spec.id}: unlocking {board} channel {channel}; open that door")
        result = await owner.unlock(board, channel, self._settings.pulse_ms)
        if result.outcome is not Unlock.ACKNOWLEDGED:
            raise _Failed(f"pulse {result.outcome.value}: {result.detail}")
        if not spec.has_door_switch:
            return self._confirm_by_hand(spec, item)
        door_closed = start.door is DoorState.CLOSED

        def moved(s: BoardSnapshot) -> bool:
            now = s.channel(channel)
            return now.door is not start.door or (door_closed and bool(now.opened_since_last_poll))

        if not await self._watch_reaction(owner, spec, before, moved):
            why = "" if door_closed else " (it read open before the pulse: a door left open?)"
            raise _Failed(f"the door switch did not react{why}", door="no_reaction")
        if not self._settings.auto and not self._ask(
            f"{spec.id}: is the door that opened the one labelled {spec.id}? [y/n] "
        ):
            raise _Failed(
                "the technician saw another door open: the map is wrong", door="wrong_door"
            )
        item = await self._item_and_close(spec, owner, board, start)
        family = self._family(owner, board)
        if not door_closed:
            raise _Failed(
                f"the door switch reads inverted: check polarity.{polarity_key(family, 'door')} "
                f"of {board} (it is per board: one switch of the other kind, or miswired?)",
                door="inverted",
                item=item,
            )
        if item == "inverted":
            why = "reads inverted" if not self._settings.auto else "reads present while empty"
            raise _Failed(
                f"the item sensor {why}: check polarity.{polarity_key(family, 'item')} of {board} "
                "(or something is inside)",
                door="normal",
                item=item,
            )
        return "normal", item, ""

    async def _item_and_close(
        self, spec: CompartmentSpec, owner: BusOwner, board: BoardId, start: ChannelState
    ) -> str:
        """The test item in and out (interactive), the door back as it was; the item's polarity."""
        channel, empty = spec.wiring.channel, start.item
        item = "not_fitted"
        if spec.has_item_sensor and self._settings.auto:
            item = "unverified" if empty is ItemState.ABSENT else "inverted"
        elif spec.has_item_sensor:
            self._say(f"{spec.id}: put a test item in")
            if (
                await self._wait(owner, board, lambda s: s.channel(channel).item is not empty)
                is None
            ):
                raise _Failed("the item sensor did not react to the test item", item="no_reaction")
            item = "normal" if empty is ItemState.ABSENT else "inverted"
            self._say(f"{spec.id}: take the item out and close the door")
        elif not self._settings.auto:
            self._say(f"{spec.id}: close the door")

        def settled(s: BoardSnapshot) -> bool:
            now = s.channel(channel)
            return now.door is start.door and (not spec.has_item_sensor or now.item is empty)

        if await self._wait(owner, board, settled) is None:
            raise _Failed("the door did not close again (or the item stayed in)", item=item)
        return item

    def _confirm_by_hand(self, spec: CompartmentSpec, item: str) -> tuple[str, str, str]:
        if self._settings.auto:
            raise _Failed("no door switch: walk it by hand (without --auto)")
        if not self._ask(f"{spec.id} has no door switch: did exactly that door open? [y/n] "):
            raise _Failed("the technician saw another door, or none, open", door="no_reaction")
        return "confirmed_by_hand", item, "confirmed by the technician"

    async def _baseline(self, owner: BusOwner, board: BoardId) -> dict[BoardId, BoardSnapshot]:
        """The bus before the pulse. A board that does not answer (`suspect`: a reply
        lost to noise or a busy host; `offline`: a few in a row, read again when its
        probe is due) is read again until the step's deadline, which alone fails it;
        one that stayed silent through a whole deadline before is read once."""
        deadline = self._clock() + self._settings.step_timeout_s
        while True:
            before = await self._read_bus(owner)
            if before[board].health is Health.ONLINE:
                self._silent.discard(board)
                return before
            if board in self._silent:
                return before
            if self._clock() >= deadline:
                self._silent.add(board)
                return before
            await asyncio.sleep(self._settings.poll_s)

    async def _read_bus(self, owner: BusOwner) -> dict[BoardId, BoardSnapshot]:
        return {board: await owner.read_now(board) for board in owner.boards}

    async def _wait(
        self, owner: BusOwner, board: BoardId, test: ChannelTest
    ) -> BoardSnapshot | None:
        deadline = self._clock() + self._settings.step_timeout_s
        while True:
            snapshot = await owner.read_now(board)
            if snapshot.health is Health.ONLINE and test(snapshot):
                return snapshot
            if self._clock() >= deadline:
                return None
            await asyncio.sleep(self._settings.poll_s)

    async def _watch_reaction(
        self,
        owner: BusOwner,
        spec: CompartmentSpec,
        before: Mapping[BoardId, BoardSnapshot],
        moved: ChannelTest,
    ) -> bool:
        """Whether the compartment's door moved; fails as soon as another door of the bus does
        (every board is read each turn: relay modules have no latch to remember a blip)."""
        board = board_id(spec.wiring.board)
        deadline = self._clock() + self._settings.step_timeout_s
        while True:
            now = await self._read_bus(owner)
            other = self._other_door(spec, before, now)
            if other is not None:
                await self._settle(owner, *other)  # the next compartment starts on a quiet bus
                raise _Failed(
                    f"the pulse moved the door switch of {self._name(other[0], other[1])}: "
                    "the map is wrong",
                    door="wrong_door",
                )
            if now[board].health is Health.ONLINE and moved(now[board]):
                return True
            if self._clock() >= deadline:
                return False
            await asyncio.sleep(self._settings.poll_s)

    async def _settle(self, owner: BusOwner, board: BoardId, channel: int, was: DoorState) -> None:
        await self._wait(owner, board, lambda s: s.channel(channel).door is was)

    def _other_door(
        self,
        spec: CompartmentSpec,
        before: Mapping[BoardId, BoardSnapshot],
        after: Mapping[BoardId, BoardSnapshot],
    ) -> tuple[BoardId, int, DoorState] | None:
        target = (board_id(spec.wiring.board), spec.wiring.channel)
        for board, snapshot in after.items():
            old = before[board]
            if snapshot.health is not Health.ONLINE or old.health is not Health.ONLINE:
                continue
            for now, was in zip(snapshot.channels, old.channels, strict=True):
                if (board, now.channel) == target or now.door is DoorState.NO_SENSOR:
                    continue
                latched = was.door is DoorState.CLOSED and bool(now.opened_since_last_poll)
                if now.door is not was.door or latched:
                    return board, now.channel, was.door
        return None

    def _family(self, owner: BusOwner, board: BoardId) -> str:
        config = owner.config.board(board.unit)
        assert config is not None  # the owner drives only its configured boards
        return config.family

    def _name(self, board: BoardId, channel: int) -> str:
        for spec in self._layout:
            if board_id(spec.wiring.board) == board and spec.wiring.channel == channel:
                return f"{spec.id} ({board} channel {channel})"
        return f"{board} channel {channel} (no compartment)"
