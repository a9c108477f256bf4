"""Commands against a running simulator: validation and execution.

One table, `COMMANDS`, serves the control channel (JSON lines), scenarios
and the CLI. A request is `{"cmd": name, ...arguments}`; `dispatch` returns
`{"ok": true, ...}` or `{"ok": false, "error": {"code", "message"}}` and
never raises: a control channel must survive whatever a tester types.

Arguments are checked against each command's `Param`s (arguments.py)
before anything runs, including that a named compartment, bus or board
exists, so a scenario can be checked whole before its first step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from .arguments import Args, CommandError, Param, board_of, check_args
from .faults import FaultProfile
from .line import BoardSlot
from .physics import PhysicsRefused, SensorFault, SensorMode, UserBehaviour
from .reader_commands import (
    FAULT_PARAMS,
    MODEL_PARAMS,
    STAFF_CARD_PARAMS,
    SWIPE_PARAMS,
    reader_fault,
    reader_info,
    reader_model,
    reader_plug,
    remove_card,
    staff_card,
    staff_reader_info,
    swipe,
)
from .world import World


class Context(Protocol):
    """What commands need from the running simulator (runtime.Simulator)."""

    @property
    def world(self) -> World: ...

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    def now(self) -> float: ...

    def poke(self) -> None:
        """Timers may have changed: recompute the next deadline."""
        ...

    def bus_info(self, bus: str) -> dict[str, object]: ...

    def unplug(self, bus: str) -> None: ...

    def replug(self, bus: str) -> None: ...

    def run_steps(self, text: str) -> dict[str, object]: ...


Handler = Callable[[Context, "Args"], dict[str, object]]


@dataclass(frozen=True, slots=True)
class Command:
    params: Mapping[str, Param]
    run: Handler
    help: str
    locked: bool = True  # run under the simulator's lock
    scriptable: bool = True  # allowed as a scenario step


# -- validation -----------------------------------------------------------------


def validate(name: object, raw: Mapping[str, object], world: World, key: str = "") -> Args:
    """The arguments of one request, checked; `key` prefixes error messages."""
    if not isinstance(name, str) or name not in COMMANDS:
        known = ", ".join(sorted(COMMANDS))
        where = f"{key}." if key else ""
        raise CommandError("unknown_command", f"{where}cmd: unknown command {name!r} ({known})")
    return check_args(name, COMMANDS[name].params, raw, world, key)


# -- dispatch ---------------------------------------------------------------------


def dispatch(ctx: Context, request: object) -> dict[str, object]:
    try:
        if not isinstance(request, dict):
            raise CommandError(
                "bad_request", 'a request is a JSON object such as {"cmd": "status"}'
            )
        name = request.get("cmd")
        if name is None:
            raise CommandError("bad_request", 'cmd: missing (e.g. {"cmd": "status"})')
        with ctx.lock:
            args = validate(name, request, ctx.world)
        assert isinstance(name, str)
        command = COMMANDS[name]
        if command.locked:
            with ctx.lock:
                ctx.world.advance(ctx.now())
                result = command.run(ctx, args)
            ctx.poke()
        else:
            result = command.run(ctx, args)
        return {"ok": True, **result}
    except CommandError as exc:
        return _error(exc.code, exc.message)
    except PhysicsRefused as exc:
        return _error(exc.code, str(exc))


def _error(code: str, message: str) -> dict[str, object]:
    return {"ok": False, "error": {"code": code, "message": message}}


# -- the commands ---------------------------------------------------------------------

_COMPARTMENT = {"compartment": Param("compartment", required=True)}
_BOARD = {"unit": Param("unit", required=True), "bus": Param("bus")}
_SENSOR_READS = {"door": ("closed", "open"), "item": ("present", "absent")}


def _ping(ctx: Context, args: Args) -> dict[str, object]:
    return {"pong": True, "now": ctx.now()}


def _help(ctx: Context, args: Args) -> dict[str, object]:
    return {
        "commands": {
            name: {"help": c.help, "args": {k: p.kind for k, p in c.params.items()}}
            for name, c in COMMANDS.items()
        }
    }


def _status(ctx: Context, args: Args) -> dict[str, object]:
    world = ctx.world
    buses = []
    for name, line in world.lines.items():
        boards = [
            {**slot.board.snapshot(), "online": slot.online, "faults": _faults(slot)}
            for slot in line.slots
        ]
        buses.append({"name": name, **ctx.bus_info(name), "boards": boards})
    return {"now": ctx.now(), "buses": buses, "compartments": world.snapshot()}


def _faults(slot: BoardSlot) -> dict[str, object]:
    f = slot.faults
    if not f.active:
        return {}
    return {
        "no_reply": f.no_reply,
        "late": f.late,
        "late_delay": f.late_delay,
        "bad_crc": f.bad_crc,
        "wrong_unit": f.wrong_unit,
        "noise": f.noise,
        "seed": f.seed,
    }


def _physical(action: str) -> Handler:
    def run(ctx: Context, args: Args) -> dict[str, object]:
        comp = ctx.world.compartments[args.text("compartment").upper()]
        now = ctx.now()
        match action:
            case "open":
                comp.open_door(now)
            case "close":
                comp.close_door(now)
            case "force":
                comp.force_door(now)
            case "jam":
                comp.jam(now)
            case "unjam":
                comp.unjam(now)
            case "put":
                comp.put_item(now, args.integer("count"))
            case "take":
                comp.take_item(now, args.integer("count"))
        return {"compartment": comp.id, "door": "open" if comp.door_open else "closed"}

    return run


def _sensor(ctx: Context, args: Args) -> dict[str, object]:
    comp = ctx.world.compartments[args.text("compartment").upper()]
    sensor, mode = args.text("sensor"), SensorMode(args.text("mode"))
    yes, no = _SENSOR_READS[sensor]
    reading = False
    if mode == SensorMode.STUCK:
        if not args.has("reads"):
            raise CommandError("bad_argument", f"reads: missing (stuck at {yes} or {no}?)")
        if args.text("reads") not in (yes, no):
            raise CommandError("bad_argument", f"reads: a {sensor} sensor reads {yes} or {no}")
        reading = args.text("reads") == yes
    comp.set_sensor(sensor, SensorFault(mode, reading))
    return {"compartment": comp.id, "sensor": sensor, "mode": mode.value}


def _user(ctx: Context, args: Args) -> dict[str, object]:
    world = ctx.world
    ids = (
        [args.text("compartment").upper()] if args.has("compartment") else list(world.compartments)
    )
    for cid in ids:
        comp = world.compartments[cid]
        # a key left out keeps its value; null switches the behaviour off
        opens, closes = comp.user.auto_open_after, comp.user.auto_close_after
        if "auto_open_after" in args.given:
            opens = args.maybe_number("auto_open_after")
        if "auto_close_after" in args.given:
            closes = args.maybe_number("auto_close_after")
        comp.set_user(UserBehaviour(opens, closes))
    return {"compartments": len(ids)}


def _power(action: str) -> Handler:
    def run(ctx: Context, args: Args) -> dict[str, object]:
        bus, slot = board_of(ctx.world, args)
        if action == "offline":
            slot.online = False
        elif action == "online":
            slot.online = True
        else:
            slot.board.power_up(ctx.now())
        return {"bus": bus, "unit": slot.board.unit, "online": slot.online}

    return run


def _fault(ctx: Context, args: Args) -> dict[str, object]:
    bus, slot = board_of(ctx.world, args)
    try:
        profile = FaultProfile(
            no_reply=args.number("no_reply"),
            late=args.number("late"),
            bad_crc=args.number("bad_crc"),
            wrong_unit=args.number("wrong_unit"),
            noise=args.number("noise"),
            late_delay=args.number("late_delay"),
            seed=args.integer("seed"),
        )
    except ValueError as exc:
        raise CommandError("bad_argument", str(exc)) from None
    ctx.world.lines[bus].set_faults(slot, profile)
    return {"bus": bus, "unit": slot.board.unit, "faults": _faults(slot)}


def _clear_faults(ctx: Context, args: Args) -> dict[str, object]:
    if args.has("unit"):
        bus, slot = board_of(ctx.world, args)
        targets = [(ctx.world.lines[bus], slot)]
    else:
        targets = [(line, s) for line in ctx.world.lines.values() for s in line.slots]
    for line, slot in targets:
        line.set_faults(slot, FaultProfile())
    return {"cleared": len(targets)}


def _stats(ctx: Context, args: Args) -> dict[str, object]:
    names = [args.text("bus")] if args.has("bus") else list(ctx.world.lines)
    since, limit = args.integer("since"), args.integer("limit")
    out: dict[str, object] = {}
    for name in names:
        line = ctx.world.lines[name]
        txns = line.transactions(since)[-limit:]
        fmt = line.format
        out[name] = {
            "format": fmt.name,
            "baud": fmt.baud,
            "char_time": fmt.char_time,
            "t15": fmt.t15,
            "t35": fmt.t35,
            "turnaround": line.turnaround,
            "clock": "CLOCK_MONOTONIC (Python time.monotonic), seconds",
            "counters": line.stats.as_dict(),
            "transactions": [t.as_dict() for t in txns],
        }
    return {"buses": out}


def _plug(action: str) -> Handler:
    def run(ctx: Context, args: Args) -> dict[str, object]:
        names = [args.text("bus")] if args.has("bus") else list(ctx.world.lines)
        for name in names:
            ctx.unplug(name) if action == "unplug" else ctx.replug(name)
        return {"buses": {name: ctx.bus_info(name) for name in names}}

    return run


def _run(ctx: Context, args: Args) -> dict[str, object]:
    return ctx.run_steps(args.text("scenario"))


COMMANDS: dict[str, Command] = {
    "ping": Command({}, _ping, "check that the simulator answers", scriptable=False),
    "help": Command({}, _help, "list the commands and their arguments", scriptable=False),
    "status": Command({}, _status, "every bus, board and compartment"),
    "open": Command(_COMPARTMENT, _physical("open"), "a person pulls the door (needs a release)"),
    "close": Command(_COMPARTMENT, _physical("close"), "a person pushes the door shut"),
    "force": Command(_COMPARTMENT, _physical("force"), "the door is forced open, no release"),
    "jam": Command(_COMPARTMENT, _physical("jam"), "the bolt sticks: pulses do nothing"),
    "unjam": Command(_COMPARTMENT, _physical("unjam"), "the bolt moves again"),
    "put": Command(
        {**_COMPARTMENT, "count": Param("count", default=1)},
        _physical("put"),
        "put items in (door open)",
    ),
    "take": Command(
        {**_COMPARTMENT, "count": Param("count", default=1)},
        _physical("take"),
        "take items out (door open)",
    ),
    "sensor": Command(
        {
            **_COMPARTMENT,
            "sensor": Param("choice", required=True, choices=("door", "item")),
            "mode": Param("choice", required=True, choices=("normal", "stuck", "inverted")),
            "reads": Param("choice", choices=("open", "closed", "present", "absent")),
        },
        _sensor,
        "a sensor works, sticks at a reading, or reads inverted",
    ),
    "user": Command(
        {
            "compartment": Param("compartment"),
            "auto_open_after": Param("maybe_seconds"),
            "auto_close_after": Param("maybe_seconds"),
        },
        _user,
        "the simulated person: pull the door N s after a release, close it N s after "
        "opening (null: never); one compartment or all",
    ),
    "offline": Command(_BOARD, _power("offline"), "the board drops off the bus"),
    "online": Command(_BOARD, _power("online"), "the board is back on the bus"),
    "power_cycle": Command(_BOARD, _power("power_cycle"), "the board restarts (reset flag)"),
    "fault": Command(
        {
            **_BOARD,
            **{k: Param("rate", default=0.0) for k in ("no_reply", "late", "bad_crc")},
            **{k: Param("rate", default=0.0) for k in ("wrong_unit", "noise")},
            "late_delay": Param("seconds", default=0.2),
            "seed": Param("int", default=0),
        },
        _fault,
        "inject faults into a board's replies: probabilities 0..1, seeded",
    ),
    "clear_faults": Command(
        {"unit": Param("unit"), "bus": Param("bus")}, _clear_faults, "no more injected faults"
    ),
    "stats": Command(
        {
            "bus": Param("bus"),
            "since": Param("int", default=0),
            "limit": Param("count", default=200),
        },
        _stats,
        "line counters and transaction records (wire times) after sequence number `since`",
        scriptable=False,
    ),
    "unplug": Command(
        {"bus": Param("bus")}, _plug("unplug"), "the USB adapter is pulled", locked=False
    ),
    "replug": Command(
        {"bus": Param("bus")}, _plug("replug"), "the USB adapter is back", locked=False
    ),
    "run": Command(
        {"scenario": Param("text", required=True)},
        _run,
        "run a scenario (TOML text); answers when it is over",
        locked=False,
        scriptable=False,
    ),
    # -- the simulated ID-card reader (reader_commands.py) --
    "swipe": Command(
        SWIPE_PARAMS,
        swipe,
        "an ID card on the reader for `hold` s (0: until remove_card); the number is "
        "checked for its shape only (18 characters, 15 for a foreign2017 card)",
    ),
    "remove_card": Command({}, remove_card, "the card is lifted off the reader"),
    "reader_fault": Command(
        FAULT_PARAMS,
        reader_fault,
        "card reader fault: none, no_sam, read_failure (every read 41) or "
        "read_failure_once (the next read 41, then 80 until the card is placed again)",
    ),
    "reader_model": Command(
        MODEL_PARAMS,
        reader_model,
        "card reader timing: fast, typical, slow (reads of 1.2-2.4 s) or alternating "
        "(answers 80 and 9F by turns while a card rests)",
    ),
    "reader": Command({}, reader_info, "the card reader: device, card, fault, counters"),
    "reader_unplug": Command(
        {}, reader_plug("unplug"), "the card reader's USB cable is pulled", locked=False
    ),
    "reader_replug": Command(
        {}, reader_plug("replug"), "the card reader's USB cable is back", locked=False
    ),
    # -- the simulated staff-card reader (staff_reader.py) --
    "staff_card": Command(
        STAFF_CARD_PARAMS,
        staff_card,
        "a clerk's card held to the staff-card reader: it types the number (1-64 letters "
        "and digits) and Enter",
        locked=False,
    ),
    "staff_reader": Command(
        {}, staff_reader_info, "the staff-card reader: device, kind, cards", locked=False
    ),
}
