"""The locker lockerd drives in the end-to-end tests: the simulator, or real hardware.

`SimRig` is an in-process `Simulator` on real pseudo-terminals (the boards'
bus and the SAM ID-card reader); its commands are the control channel's
(`simulator.commands.dispatch`). `HardwareRig` is real boards and a real
reader: every physical action becomes an instruction to the person at the
locker (on /dev/tty), who confirms with Enter; the test then checks what
lockerd saw, as it does against the simulator.

Both give lockerd a line scanner on a pseudo-terminal the test writes
tokens into (staff cards, pickup codes): the simulator has no scanner, and
a pty is a real serial device to lockerd's line reader.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from protocol.modbus import DecodedRequest, WriteSingleRegister, decode_request
from protocol.reference_board import HR_UNLOCK_BASE
from simulator.commands import dispatch
from simulator.layout import Layout, simple_layout
from simulator.physics import UserBehaviour
from simulator.pty_port import PtyPort
from simulator.runtime import Simulator

SIM_BOARDS, SIM_CHANNELS = 2, 8


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


@dataclass
class UnlockSpy:
    """Every unlock write a simulated reference board received: (unit, channel, at)."""

    writes: list[tuple[int, int, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, board: Any) -> None:
        original = board.on_request

        def on_request(frame: bytes, now: float) -> bytes | None:
            decoded = decode_request(frame)
            if isinstance(decoded, DecodedRequest) and decoded.unit == board.unit:
                request = decoded.request
                if isinstance(request, WriteSingleRegister) and request.address >= HR_UNLOCK_BASE:
                    with self._lock:
                        self.writes.append((board.unit, request.address - HR_UNLOCK_BASE + 1, now))
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
    scanner: Scanner

    def compartments(self) -> list[tuple[str, str, int, int]]: ...  # id, size, unit, channel

    def swipe(self, id_number: str) -> None: ...

    def open(self, cid: str) -> None: ...

    def close(self, cid: str) -> None: ...

    def put(self, cid: str) -> None: ...

    def take(self, cid: str) -> None: ...

    def force(self, cid: str) -> None: ...

    def jam(self, cid: str) -> None: ...

    def item_sensor_stuck(self, cid: str, present: bool) -> None: ...

    def board_offline(self, unit: int) -> None: ...

    def board_online(self, unit: int) -> None: ...

    def unplug(self) -> None: ...

    def replug(self) -> None: ...

    def unplug_reader(self) -> None: ...

    def replug_reader(self) -> None: ...

    def doors_open_by_themselves(self, cid: str | None, *, close_after: float | None) -> None: ...

    def door_is_open(self, cid: str) -> bool | None: ...  # None: the rig cannot tell

    def unlock_writes(self, unit: int, channel: int, since: float) -> int | None: ...

    def close_rig(self) -> None: ...


def sim_layout() -> Layout:
    return simple_layout(
        boards=SIM_BOARDS,
        channels=SIM_CHANNELS,
        baud=115200,
        frame="8N1",
        turnaround=0.0005,
        user=UserBehaviour(auto_open_after=0.05, auto_close_after=None),
    )


class SimRig:
    name = "sim"

    def __init__(self, run_dir: Path) -> None:
        self.sim = Simulator(sim_layout(), run_dir)
        self.sim.start()
        self.spy = UnlockSpy()
        for line in self.sim.world.lines.values():
            for slot in line.slots:
                self.spy.wrap(slot.board)
        self.bus_port = str(self.sim.fronts["bus0"].pty.link)
        assert self.sim.card_reader is not None
        self.reader_port: str | None = str(self.sim.card_reader.pty.link)
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
