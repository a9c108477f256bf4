"""The locker lockerd drives in the end-to-end tests: the simulator, or real hardware.

`SimRig` is an in-process `Simulator` on real pseudo-terminals (the boards'
buses and the SAM ID-card reader); its commands are the control channel's
(`simulator.commands.dispatch`). Its `site` picks the boards: `sim`, two
reference boards on one bus; `kerong`, a Kerong bus (a CU16 at address 0
with the S and M compartments, a CU48 at address 1 with the L ones, which
have no item sensor), each of its family's default firmware (a CU16 that
never answers an unlock, a CU48 V2.1); `kerong-alt`, the same bus with the
other firmware (a CU16 that answers an unlock with its status, a CU48 of
the 0x60 variant: 18-byte status replies, an acknowledged unlock); `mixed`,
a reference board on one bus and those two Kerong boards (default firmware)
on a second bus, each on its own pty. `HardwareRig` is real boards and a real
reader: every physical action becomes an instruction to the person at the
locker (on /dev/tty), who confirms with Enter; the test then checks what
lockerd saw, as it does against the simulator.

Clerks' cards go to the simulator's staff-card reader (`staff_card`: it
types the number like a hall's keyboard-wedge badge reader, and lockerd's
keyboard reader reads it). Both rigs also give lockerd a line scanner on a
pseudo-terminal the test writes pickup codes into: the simulator has no
code scanner, and a pty is a real serial device to lockerd's line reader.
On the hardware rig, staff cards are typed into that scanner too.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from protocol.kerong import cu16, cu48
from protocol.modbus import DecodedRequest, WriteSingleRegister, decode_request
from protocol.reference_board import HR_UNLOCK_BASE
from simulator.commands import dispatch
from simulator.layout import Layout, parse_layout, simple_layout
from simulator.physics import UserBehaviour
from simulator.pty_port import PtyPort
from simulator.runtime import Simulator

SIM_BOARDS, SIM_CHANNELS = 2, 8
# micropython: the sim site with the reference boards' firmware run by real
# MicroPython (simulator/engines.py), the HIL twin
SITES = ("sim", "kerong", "kerong-alt", "mixed", "micropython")
KERONG_UNLOCK_MS = 300
# The firmware of each Kerong site's CU16 and CU48 (the families' variants).
KERONG_FIRMWARE = {
    "kerong": (cu16.Variant.UNLOCK_SILENT.value, cu48.Variant.V2_1.value),
    "kerong-alt": (cu16.Variant.UNLOCK_ANSWERED.value, cu48.Variant.ALT_60.value),
    "mixed": (cu16.Variant.UNLOCK_SILENT.value, cu48.Variant.V2_1.value),
}


class Scanner:
    """A serial scanner the test types into: the pty's master side."""

    def __init__(self, link: Path) -> None:
        self.port = PtyPort(link)
        self.port.plug()

    @property
    def link(self) -> Path:
        return self.port.link

    def type(self, token: str) -> None:
        os.write(self.port.fileno(), token.encode() + b"\r\n")

    def close(self) -> None:
        self.port.unplug()


def unlocked_channel(board: Any, frame: bytes) -> int | None:
    """The channel an unlock frame addressed to `board` pulses, else None."""
    if board.family == "kerong_cu16":
        narrow = cu16.decode_request(frame)
        if narrow is not None and narrow.board == board.unit and narrow.command == 0x31:
            return narrow.lock
        return None
    if board.family == "kerong_cu48":
        wide = cu48.decode_request(frame)
        unlocks = {v.unlock_command for v in cu48.Variant}
        if wide is not None and wide.board == board.unit and wide.command in unlocks:
            return wide.lock + 1
        return None
    decoded = decode_request(frame)
    if isinstance(decoded, DecodedRequest) and decoded.unit == board.unit:
        request = decoded.request
        if isinstance(request, WriteSingleRegister) and request.address >= HR_UNLOCK_BASE:
            return request.address - HR_UNLOCK_BASE + 1
    return None


@dataclass
class UnlockSpy:
    """Every unlock a simulated board received: (unit, channel, at)."""

    writes: list[tuple[int, int, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, board: Any) -> None:
        original = board.on_request

        def on_request(frame: bytes, now: float) -> bytes | None:
            channel = unlocked_channel(board, frame)
            if channel is not None:
                with self._lock:
                    self.writes.append((board.unit, channel, now))
            reply: bytes | None = original(frame, now)
            return reply

        board.on_request = on_request

    def count(self, unit: int, channel: int, since: float = 0.0) -> int:
        with self._lock:
            return sum(1 for u, c, at in self.writes if (u, c) == (unit, channel) and at >= since)


class Rig(Protocol):
    name: str
    bus_port: str
    reader_port: str | None
    staff_reader: str | None  # the staff-card reader's device (keyboard records); None: none
    scanner: Scanner

    def compartments(self) -> list[tuple[str, str, int, int]]: ...  # id, size, unit, channel

    def swipe(self, id_number: str) -> None: ...

    def staff_card(self, number: str) -> None: ...

    def open(self, cid: str) -> None: ...

    def close(self, cid: str) -> None: ...

    def put(self, cid: str) -> None: ...

    def take(self, cid: str) -> None: ...

    def force(self, cid: str) -> None: ...

    def jam(self, cid: str) -> None: ...

    def item_sensor_stuck(self, cid: str, present: bool) -> None: ...

    def board_offline(self, unit: int) -> None: ...

    def board_online(self, unit: int) -> None: ...

    def power_cycle(self, unit: int) -> None: ...

    def configured_since(self, unit: int, since: float) -> bool | None: ...  # None: cannot tell

    def unplug(self) -> None: ...

    def replug(self) -> None: ...

    def unplug_reader(self) -> None: ...

    def replug_reader(self) -> None: ...

    def doors_open_by_themselves(self, cid: str | None, *, close_after: float | None) -> None: ...

    def door_is_open(self, cid: str) -> bool | None: ...  # None: the rig cannot tell

    def unlock_writes(self, unit: int, channel: int, since: float) -> int | None: ...

    def close_rig(self) -> None: ...


def sim_layout(site: str = "sim") -> Layout:
    user = UserBehaviour(auto_open_after=0.05, auto_close_after=None)
    if site in ("sim", "micropython"):
        layout = simple_layout(
            boards=SIM_BOARDS,
            channels=SIM_CHANNELS,
            baud=115200,
            frame="8N1",
            turnaround=0.0005,
            user=user,
        )
        return replace(layout, engine="micropython" if site == "micropython" else "cpython")
    firmware = KERONG_FIRMWARE[site]
    kerong = {
        "name": "bus1" if site == "mixed" else "bus0",
        "baud": 19200,  # the Kerong boards' factory format
        "format": "8N1",
        "turnaround_ms": 0.5,
        "boards": [
            {
                "family": family,
                "unit": unit,
                "channels": SIM_CHANNELS,
                "unlock_ms": KERONG_UNLOCK_MS,
                "firmware": firmware[unit],
            }
            for unit, family in enumerate(("kerong_cu16", "kerong_cu48"))
        ],
    }
    columns = [(kerong["name"], 0, "SSSSMMMM"), (kerong["name"], 1, "LLLLLLLL")]
    buses: list[dict[str, Any]] = [kerong]
    if site == "mixed":
        reference = {"family": "reference", "unit": 1, "channels": SIM_CHANNELS}
        buses.insert(
            0,
            {
                "name": "bus0",
                "baud": 115200,
                "format": "8N1",
                "turnaround_ms": 0.5,
                "boards": [reference],
            },
        )
        columns.insert(0, ("bus0", 1, "SSSMMMLL"))
    compartments = [
        {
            "id": f"{chr(ord('A') + col)}{row:02d}",
            "size": size,
            "bus": bus,
            "lock": {"unit": unit, "channel": row},
        }
        for col, (bus, unit, sizes) in enumerate(columns)
        for row, size in enumerate(sizes, 1)
    ]
    layout = parse_layout({"buses": buses, "compartments": compartments})
    return replace(layout, user=user)


class SimRig:
    name = "sim"

    def __init__(self, run_dir: Path, site: str = "sim") -> None:
        self.site = site
        self.sim = Simulator(sim_layout(site), run_dir)
        self.sim.start()
        self.spy = UnlockSpy()
        for line in self.sim.world.lines.values():
            for slot in line.slots:
                self.spy.wrap(slot.board)
        self.bus_ports = {name: str(front.pty.link) for name, front in self.sim.fronts.items()}
        self.bus_port = self.bus_ports["bus0"]
        assert self.sim.card_reader is not None
        self.reader_port: str | None = str(self.sim.card_reader.pty.link)
        assert self.sim.staff_reader is not None
        self.staff_reader: str | None = str(self.sim.staff_reader.pty.link)
        self.scanner = Scanner(run_dir / "ttySCANNER0")

    def command(self, cmd: str, **args: object) -> dict[str, Any]:
        reply = dispatch(self.sim, {"cmd": cmd, **args})
        assert reply["ok"], f"simulator refused {cmd} {args}: {reply}"
        return reply

    def compartments(self) -> list[tuple[str, str, int, int]]:
        return [
            (c.id, c.size.value, c.lock.unit, c.lock.channel)
            for c in self.sim.world.layout.compartments
        ]

    def swipe(self, id_number: str) -> None:
        self.command("swipe", id_number=id_number, hold=0.6)

    def staff_card(self, number: str) -> None:
        self.command("staff_card", number=number)

    def open(self, cid: str) -> None:
        self.command("open", compartment=cid)

    def close(self, cid: str) -> None:
        self.command("close", compartment=cid)

    def put(self, cid: str) -> None:
        self.command("put", compartment=cid)

    def take(self, cid: str) -> None:
        self.command("take", compartment=cid)

    def force(self, cid: str) -> None:
        self.command("force", compartment=cid)

    def jam(self, cid: str) -> None:
        self.command("jam", compartment=cid)

    def item_sensor_stuck(self, cid: str, present: bool) -> None:
        reads = "present" if present else "absent"
        self.command("sensor", compartment=cid, sensor="item", mode="stuck", reads=reads)

    def board_offline(self, unit: int) -> None:
        self.command("offline", unit=unit)

    def board_online(self, unit: int) -> None:
        self.command("online", unit=unit)

    def power_cycle(self, unit: int) -> None:
        self.command("power_cycle", unit=unit)

    def configured_since(self, unit: int, since: float) -> bool | None:
        """lockerd wrote the board's configuration (FC16 at its start-up) since `since`."""
        with self.sim.lock:
            records = [t for line in self.sim.world.lines.values() for t in line.transactions()]
        return any(t.unit == unit and t.function == 16 and t.received_at >= since for t in records)

    def unplug(self) -> None:
        self.command("unplug")

    def replug(self) -> None:
        self.command("replug")

    def unplug_reader(self) -> None:
        self.command("reader_unplug")

    def replug_reader(self) -> None:
        self.command("reader_replug")

    def doors_open_by_themselves(self, cid: str | None, *, close_after: float | None) -> None:
        args: dict[str, object] = {"auto_open_after": 0.05, "auto_close_after": close_after}
        if cid is not None:
            args["compartment"] = cid
        self.command("user", **args)

    def door_is_open(self, cid: str) -> bool | None:
        with self.sim.lock:
            return self.sim.world.compartments[cid].door_open

    def unlock_writes(self, unit: int, channel: int, since: float) -> int | None:
        return self.spy.count(unit, channel, since)

    def close_rig(self) -> None:
        self.scanner.close()
        self.sim.stop()
        assert self.sim.failure() is None, f"the simulator failed: {self.sim.failure()!r}"


class HardwareRig:
    """Real boards and a real reader; a person does what the simulator does by itself."""

    name = "hardware"

    def __init__(self, run_dir: Path, bus_port: str, reader_port: str | None, layout: Any) -> None:
        self.bus_port = bus_port
        self.reader_port = reader_port
        self.staff_reader: str | None = None
        self.scanner = Scanner(run_dir / "ttySCANNER0")
        self._layout = layout  # [(id, size, unit, channel)]
        self._tty = open("/dev/tty", "r+", encoding="utf-8")  # noqa: SIM115

    def _ask(self, instruction: str) -> None:
        self._tty.write(f"\n>>> {instruction}, then press Enter: ")
        self._tty.flush()
        self._tty.readline()

    def compartments(self) -> list[tuple[str, str, int, int]]:
        return list(self._layout)

    def swipe(self, id_number: str) -> None:
        self._ask("present the test ID card (LOCKER_HIL_CARD) on the reader and lift it")

    def staff_card(self, number: str) -> None:
        self.scanner.type(number)  # no badge reader on the rig: the scanner types it

    def open(self, cid: str) -> None:
        self._ask(f"open door {cid}")

    def close(self, cid: str) -> None:
        self._ask(f"close door {cid}")

    def put(self, cid: str) -> None:
        self._ask(f"put a test item into {cid}")

    def take(self, cid: str) -> None:
        self._ask(f"take the item out of {cid}")

    def force(self, cid: str) -> None:
        self._ask(f"force door {cid} open without a release (or open it with the key)")

    def jam(self, cid: str) -> None:
        self._ask(f"hold door {cid} shut so that it cannot open during the next unlock")

    def item_sensor_stuck(self, cid: str, present: bool) -> None:
        what = "cover" if present else "uncover (or disconnect)"
        self._ask(f"{what} the item sensor of {cid} with the door closed")

    def board_offline(self, unit: int) -> None:
        self._ask(f"disconnect board {unit} from the bus (A/B wires or its power)")

    def board_online(self, unit: int) -> None:
        self._ask(f"reconnect board {unit}")

    def power_cycle(self, unit: int) -> None:
        self._ask(f"cut board {unit}'s power for a few seconds, then restore it")

    def configured_since(self, unit: int, since: float) -> bool | None:
        return None

    def unplug(self) -> None:
        self._ask("unplug the USB-RS485 adapter")

    def replug(self) -> None:
        self._ask("plug the USB-RS485 adapter back in")

    def unplug_reader(self) -> None:
        self._ask("unplug the ID-card reader")

    def replug_reader(self) -> None:
        self._ask("plug the ID-card reader back in")

    def doors_open_by_themselves(self, cid: str | None, *, close_after: float | None) -> None:
        target = cid or "every door that releases"
        closing = "and leave it open" if close_after is None else "and close it again"
        self._ask(f"from now on, open {target} as soon as it releases, {closing}")

    def door_is_open(self, cid: str) -> bool | None:
        return None

    def unlock_writes(self, unit: int, channel: int, since: float) -> int | None:
        return None

    def close_rig(self) -> None:
        self.scanner.close()
        self._tty.close()


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` and the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        with contextlib.suppress(ConnectionError):
            last = check()
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what}; last: {last!r}"
            )
        time.sleep(interval)
