"""`lockerd demo`: the whole locker on one machine, from nothing, in the foreground.

Theory of operation. A fresh run directory (a private temporary directory)
holds everything: the simulator's devices, the configuration and secrets
drawn for this run (hall.py), the database, the admin socket and every
child's log. In order:

1. `locker-sim serve` (a child): two reference boards with 24 channels each
   on a pseudo-terminal at 19200 8E1, and the simulated SAM ID-card reader on
   another; its automatic user opens a released door and closes it again;
2. Mosquitto (a child) on a free loopback port;
3. `lockerd commission walk --auto` (a child): every door pulsed once, so the
   daemon will serve citizens (an uncommissioned locker refuses them); then
   the simulated user stops closing doors by themselves (people do that now,
   with `locker-sim close`) but still pulls a released door open;
4. `lockerd run` (a child) on the written configuration;
5. the hall is seeded through the daemon's front doors (seed.py), and
   the demo prints the addresses and the commands to try.

Then it waits. Ctrl-C or SIGTERM (or a child that dies) stops the children
in reverse order (the daemon first, so it never sees its boards vanish),
removes the run directory (unless `--keep`) and exits 0 (1 if something
failed). Every wait is bounded and names what it waited for.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import FrameType
from typing import TextIO

from locker_host.daemon.admin import call as admin_call
from simulator.client import call as sim_call

from .children import Child, DemoError, wait_for
from .hall import (
    COMMAND_KEY_ID,
    LOCKER,
    MARKET_CLERK,
    SITE,
    STAFF,
    Hall,
    SimulatorPorts,
    mosquitto_config,
    write_hall,
)
from .seed import SeededHall, Seeder

EXIT_OK, EXIT_FAILED = 0, 1
START_TIMEOUT_S = 30.0
WALK_TIMEOUT_S = 180.0  # 48 doors; about 25 s on an idle machine
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@dataclass(frozen=True)
class DemoOptions:
    port: int | None = None  # the HTTP port; None: a free one
    keep: bool = False  # keep the run directory
    browser_hint: bool = True
    engine: str = "cpython"  # where the boards' firmware runs: cpython or micropython
    signed: bool = False  # every MQTT command needs a signature; events re-sent as normal


class _Stopped(Exception):
    """SIGINT or SIGTERM arrived."""


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signal.Signals(signum).name)


def run_demo(options: DemoOptions, out: TextIO = sys.stdout) -> int:
    def say(text: str = "") -> None:
        # A reader that went away (`lockerd demo | tee`, both hit by one Ctrl-C)
        # must not cut the clean-up short: the text is lost, the children are not.
        with contextlib.suppress(BrokenPipeError):
            print(text, file=out, flush=True)

    if not Path(MOSQUITTO).exists():
        say("lockerd demo: mosquitto is not installed (`./run.sh demo` installs it)")
        return EXIT_FAILED
    run_dir = Path(tempfile.mkdtemp(prefix="lockerd-demo-"))
    previous = {s: signal.signal(s, _stop_on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    demo = _Demo(run_dir, options, say)
    code = EXIT_OK
    try:
        demo.start()
        demo.wait()
    except _Stopped as stopped:
        say(f"\nlockerd demo: {stopped}: stopping")
    except DemoError as exc:
        say(f"lockerd demo: {exc}")
        code = EXIT_FAILED
    finally:
        for signum in previous:  # a second Ctrl-C must not cut the clean-up short
            signal.signal(signum, signal.SIG_IGN)
        demo.stop()
        if options.keep:
            say(f"lockerd demo: kept {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    say("lockerd demo: stopped")
    return code


class _Demo:
    def __init__(self, run_dir: Path, options: DemoOptions, say: Callable[..., None]) -> None:
        self.run_dir = run_dir
        self.options = options
        self.say = say
        self.children: list[Child] = []

    def _child(self, name: str, argv: list[str]) -> Child:
        child = Child(name, argv, self.run_dir / f"{name}.log")
        self.children.append(child)
        return child

    def start(self) -> None:
        self.say(f"lockerd demo: starting in {self.run_dir}")
        sim, control = self._start_simulator()
        http_port = _port(self.options.port)
        mqtt_port = _port(None)
        hall = write_hall(
            self.run_dir, sim, http_port=http_port, mqtt_port=mqtt_port, signed=self.options.signed
        )
        self._start_broker(mqtt_port)
        self._commission(hall)
        sim_call(control, {"cmd": "user", "auto_open_after": 0.2, "auto_close_after": None})
        lockerd = self._child("lockerd", [*LOCKERD, "run", "--config", str(hall.config)])
        wait_for(
            lambda: admin_call(hall.admin_socket, "ping", {}, timeout=2.0).get("ok"),
            timeout=START_TIMEOUT_S,
            what="lockerd to answer on its admin socket",
            children=[lockerd],
        )

        def every_door_read() -> bool:
            state = admin_call(hall.admin_socket, "state", {}, timeout=5.0)["state"]
            return all(c["door"] != "unknown" for c in state["compartments"])

        # After a (re)start every reading is unknown until the boards answer (DESIGN 4.8).
        wait_for(
            every_door_read,
            timeout=START_TIMEOUT_S,
            what="lockerd to read every board",
            children=[lockerd],
        )

        def http_health() -> bool:
            url = f"{hall.base_url}/api/v1/health"
            with urllib.request.urlopen(url, timeout=5) as reply:
                return bool(reply.status == HTTPStatus.OK)

        wait_for(
            http_health, timeout=START_TIMEOUT_S, what="lockerd's HTTP server", children=[lockerd]
        )
        self.say(f"lockerd: running (pid {lockerd.pid}), HTTP on {hall.base_url}")
        self.say("seeding the hall through the admin socket and the simulator:")
        seeded = Seeder(hall, control, children=self.children, say=self.say).seed()
        self._print_ready(hall, seeded)

    def _start_simulator(self) -> tuple[SimulatorPorts, str]:
        sim_dir = self.run_dir / "sim"
        # The walk needs doors that open and close by themselves.
        argv = [*LOCKER_SIM, "serve", "--run-dir", str(sim_dir), "--engine", self.options.engine]
        child = self._child("locker-sim", [*argv, "--auto-open", "0.05", "--auto-close", "0.1"])

        def lines() -> dict[str, str] | None:
            found = dict(
                line.split(": ", 1) for line in child.log_text().splitlines() if ": " in line
            )
            wanted = {"serial", "control", "engine", "reader", "staff reader"}
            return found if wanted <= found.keys() else None

        found = wait_for(
            lines, timeout=START_TIMEOUT_S, what="the simulator to serve", children=[child]
        )
        staff_reader = found["staff reader"].split(" ", 1)[0]  # "<path> (keyboard)"
        self.say(
            f"simulator: boards on {found['serial']} (firmware on {found['engine']}), "
            f"ID-card reader on {found['reader']}, staff-card reader on {staff_reader}"
        )
        ports = SimulatorPorts(Path(found["serial"]), Path(found["reader"]), Path(staff_reader))
        return ports, found["control"]

    def _start_broker(self, port: int) -> None:
        config = self.run_dir / "mosquitto.conf"
        config.write_text(mosquitto_config(port), encoding="utf-8")
        broker = self._child("mosquitto", [MOSQUITTO, "-c", str(config)])

        def listening() -> bool:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True

        wait_for(listening, timeout=START_TIMEOUT_S, what="mosquitto to listen", children=[broker])
        self.say(f"mosquitto: 127.0.0.1:{port}")

    def _commission(self, hall: Hall) -> None:
        self.say("commissioning: walking every door (lockerd commission walk --auto)...")
        argv = [*LOCKERD, "commission", "walk", "--auto", "--config", str(hall.config)]
        walk = self._child("commission", [*argv, "--timeout", "10", "--technician", "demo"])
        wait_for(lambda: not walk.running(), timeout=WALK_TIMEOUT_S, what="the commissioning walk")
        self.children.remove(walk)
        summary = [line for line in walk.log_text().splitlines() if line.startswith("walked")]
        if walk.process.returncode != 0 or not summary:
            raise DemoError(f"the commissioning walk failed:\n{walk.log_tail()}")
        self.say(f"commissioning: {summary[-1]}")

    def _print_ready(self, hall: Hall, seeded: SeededHall) -> None:
        say, sim_dir = self.say, self.run_dir / "sim"
        say()
        say(f"  kiosk:      {hall.base_url}/kiosk/#token={hall.kiosk_token}")
        say(f"  dashboard:  {hall.base_url}/staff/#token={hall.staff_token}")
        say(f"  metrics:    {hall.base_url}/metrics")
        say(f"  health:     {hall.base_url}/api/v1/health")
        if self.options.browser_hint:
            say("Open the kiosk and the dashboard in a browser on this machine: the token after")
            say("#token= signs the page in (kiosk: the touch screen; dashboard: staff).")
        say()
        say("The hall (the ID numbers are GB 11643 specimen numbers, not people's):")
        for c in seeded.certificates:
            status = "OVERDUE" if c.overdue else "waiting for pickup"
            code = f", pickup code {c.pickup_code}" if c.pickup_code else ""
            say(
                f"  {c.compartment}  certificate {c.application} ({c.department}), {status}: "
                f"{c.citizen.name}, specimen ID {c.citizen.id_number}{code}"
            )
        d = seeded.dossier
        who = d.citizen.name
        say(f"  {d.compartment}  dossier ({d.service}, {d.department}), dropped off by {who}")
        alice = seeded.certificates[0]
        sim = f"--run-dir {sim_dir}"
        say()
        say("Try, in another terminal:")
        say(
            f"  # {alice.citizen.name} picks up: her (specimen) ID card on the reader opens "
            f"{alice.compartment}"
        )
        say(f"  {_tool('locker-sim')} swipe {sim} {alice.citizen.id_number}")
        say(f"  {_tool('locker-sim')} take {sim} {alice.compartment}")
        say(f"  {_tool('locker-sim')} close {sim} {alice.compartment}")
        dossier = seeded.dossier
        say(
            f"  # the market clerk's card at the staff-card reader opens {dossier.compartment} "
            f"to collect {dossier.citizen.name}'s dossier"
        )
        say(f"  {_tool('locker-sim')} staff-card {sim} {MARKET_CLERK.card}")
        say("  # a door opened without a release raises door.forced")
        say(f"  {_tool('locker-sim')} force {sim} F08")
        say(f"  {_tool('locker-sim')} status {sim}")
        say("  # what the central system sees (retained status and state, events)")
        say(
            f"  mosquitto_sub -h 127.0.0.1 -p {hall.mqtt_port} -t 'lockers/v1/{SITE}/{LOCKER}/#' -v"
        )
        say(f"  {_tool('lockerctl')} --port {hall.mqtt_port} state {SITE}/{LOCKER}")
        say(f"  {_tool('lockerd')} admin --socket {hall.admin_socket} state")
        self._print_for_integrators(hall)
        say()
        say(f"logs: {self.run_dir}/*.log")
        say("lockerd demo: ready; Ctrl-C stops everything")

    def _print_for_integrators(self, hall: Hall) -> None:
        """What a central system's or a kiosk's developer needs to drive the demo from
        their own code (docs/asyncapi, docs/http-api.md, docs/operations.md)."""
        say, sim = self.say, f"--run-dir {self.run_dir / 'sim'}"
        ctl = f"{_tool('lockerctl')} --port {hall.mqtt_port}"
        say()
        say("To drive it from your own code:")
        say("  # the clerks' staff cards (number, staff id, department, role), and one on")
        say("  # the staff card reader:")
        for member in STAFF:
            say(f"  #   {member.card}  {member.staff_id}  {member.department}  {member.role}")
        for member in STAFF:
            say(f"  {_tool('locker-sim')} staff-card {sim} {member.card}")
        say(f"  # owner keys: the secret is [owner_keys] version 1 in {hall.secrets};")
        say("  # the owner_key your central system sends for an ID number (typed at the prompt,")
        say("  # not echoed; or on stdin), as fields for `lockerctl send ... reserve`:")
        say(f"  {_tool('lockerctl')} owner-key --secrets {hall.secrets}")
        say("  # HTTP tokens (header Authorization: Bearer TOKEN; docs/http-api.md):")
        say(f"  #   technician {hall.technician_token}")
        say(f"  #   admin      {hall.admin_token}")
        say("  # more tokens: the line below prints a new token once and its [[http.tokens]]")
        say(f"  # entry; add it to {hall.config} (read when lockerd starts)")
        say(f"  {_tool('lockerd')} hash-token --name my-tool --role technician --generate")
        say(f"  {_tool('lockerd')} hash-token --name my-admin --role admin --generate")
        if hall.command_key is None:
            say("  # `lockerd demo --signed`: every command must carry an HMAC signature")
            return
        say("  # every command must be signed (docs/asyncapi, Signatures) with key id")
        say(f"  # {COMMAND_KEY_ID} and the key in hex in {hall.command_key};")
        say("  # an unsigned one gets signature_required")
        say(
            f"  {ctl} send {SITE}/{LOCKER} ping --sign-key-id {COMMAND_KEY_ID} "
            f"--sign-key-file {hall.command_key}"
        )

    def wait(self) -> None:
        while True:
            for child in self.children:
                child.check()
            time.sleep(0.5)

    def stop(self) -> None:
        for child in reversed(self.children):
            code = child.stop()
            if code not in (0, -signal.SIGTERM):
                self.say(f"lockerd demo: {child.name} exited with {code}")
        self.children.clear()


LOCKERD = [sys.executable, "-m", "locker_host.daemon"]
LOCKER_SIM = [sys.executable, "-m", "simulator"]


def _tool(name: str) -> str:
    """The command as the user can type it: the one beside our interpreter (the venv's)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


def _port(wanted: int | None) -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted or 0))
        except OSError as exc:
            raise DemoError(f"--port {wanted}: cannot listen there: {exc.strerror}") from None
        return int(probe.getsockname()[1])
