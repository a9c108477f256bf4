"""`lockerd demo` as a user runs it: a subprocess, its printed lines, then Ctrl-C.

One demo is started for the module (it walks 48 doors and seeds the hall:
about 40 s); the tests look at it the way the printed text tells a person to
(the admin socket, `locker-sim`, the broker), and the last one stops it with
SIGINT and checks that nothing is left: no child process, no run directory,
exit status 0.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from demo.hall import ALICE, BOB, CAROL, DAVE, STAFF
from locker_host.daemon.admin import call
from tests.e2e.conftest import assert_no_personal_data
from tests.e2e.rig import wait_for

pytestmark = pytest.mark.slow

READY_TIMEOUT_S = 240.0  # the walk and the seeding on a busy 2-core machine
SPECIMENS = {c.id_number for c in (ALICE, BOB, CAROL, DAVE)}


@dataclass
class Demo:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def value(self, pattern: str) -> str:
        found = re.search(pattern, self.text, re.MULTILINE)
        assert found, f"{pattern!r} not in the demo's output:\n{self.text}"
        return found.group(1)

    @property
    def run_dir(self) -> Path:
        return Path(self.value(r"^lockerd demo: starting in (\S+)$"))

    @property
    def socket(self) -> Path:
        return Path(self.value(r"admin --socket (\S+) state$"))

    def state(self) -> dict[str, Any]:
        reply = call(self.socket, "state", {}, timeout=10.0)
        assert reply["ok"], reply
        state: dict[str, Any] = reply["state"]
        return state

    def command(self, marker: str) -> list[str]:
        """A printed command line (the first one containing `marker`), as argv."""
        line = next(
            (ln for ln in self.lines if marker in ln and not ln.strip().startswith("#")), None
        )
        assert line is not None, f"no command with {marker!r} printed:\n{self.text}"
        return line.split()


def _children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module", params=["cpython", "micropython"])
def demo(request: pytest.FixtureRequest) -> Iterator[Demo]:
    """The demo as printed, with the boards' firmware in the simulator's own
    interpreter (the default) and in real MicroPython (`--engine micropython`)."""
    engine = request.param
    with started("--engine", engine) as running:
        assert f"(firmware on {engine} " in running.text, running.text
        yield running


@contextlib.contextmanager
def started(*options: str) -> Iterator[Demo]:
    """`lockerd demo` with these options, once it printed that it is ready."""
    argv = [sys.executable, "-m", "locker_host.daemon", "demo", "--no-browser-hint"]
    process = subprocess.Popen(
        [*argv, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Demo(process)
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            running.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not any(line.startswith("lockerd demo: ready") for line in running.lines):
            assert process.poll() is None, f"the demo exited {process.returncode}:\n{running.text}"
            assert time.monotonic() < deadline, f"the demo is not ready:\n{running.text}"
            time.sleep(0.2)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
        reader.join(timeout=10)
        stdout.close()


def test_the_hall_is_seeded_as_printed(demo: Demo) -> None:
    compartments = {c["compartment"]: c for c in demo.state()["compartments"]}
    items = [(cid, i["kind"], i["stage"]) for cid, c in compartments.items() for i in c["items"]]
    waiting = [cid for cid, kind, stage in items if (kind, stage) == ("certificate", "held")]
    overdue = [cid for cid, kind, stage in items if (kind, stage) == ("certificate", "overdue")]
    dossiers = [cid for cid, kind, stage in items if (kind, stage) == ("dossier", "held")]
    assert len(waiting) == 2 and len(overdue) == 1 and len(dossiers) == 1, items
    for cid in (*waiting, *overdue, *dossiers):
        assert compartments[cid]["door"] == "closed"
        assert re.search(rf"^  {cid}  (certificate|dossier)", demo.text, re.MULTILINE), cid
    assert re.search(rf"^  {overdue[0]}  certificate .*OVERDUE", demo.text, re.MULTILINE)
    # The printed numbers are the specimens, and said to be.
    assert "specimen" in demo.text
    printed = set(re.findall(r"specimen ID (\S+?)[,\s]", demo.text + "\n"))
    assert printed and printed <= SPECIMENS, printed


def _get(url: str, token: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=20) as reply:
        return reply.status, reply.headers.get("Content-Type", ""), reply.read().decode()


def test_the_printed_urls_serve_the_kiosk_the_dashboard_metrics_and_health(demo: Demo) -> None:
    kiosk = demo.value(r"^  kiosk:\s+(\S+)$")
    dashboard = demo.value(r"^  dashboard:\s+(\S+)$")
    base = demo.value(r"^  metrics:\s+(\S+)/metrics$")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base), base
    assert kiosk.startswith(f"{base}/kiosk/#token=") and dashboard.startswith(
        f"{base}/staff/#token="
    )
    for page in (kiosk, dashboard, f"{base}/"):  # / redirects to the kiosk
        status, kind, body = _get(page.split("#")[0])
        assert status == 200 and kind.startswith("text/html") and "<html" in body.lower()
    status, kind, body = _get(f"{base}/metrics")
    assert status == 200 and kind.startswith("text/plain")
    assert re.search(r"^\w+ ", body, re.MULTILINE), body[:500]
    status, _, body = _get(demo.value(r"^  health:\s+(\S+)$"))
    health = json.loads(body)
    assert health["ok"] and health["commissioned"] is True, health
    # The printed tokens sign in: the staff token reads the items, the kiosk one may not.
    staff_token = dashboard.split("#token=")[1]
    kiosk_token = kiosk.split("#token=")[1]
    _, _, body = _get(f"{base}/api/v1/items", staff_token)
    stages = sorted((i["kind"], i["stage"]) for i in json.loads(body)["items"])
    assert ("certificate", "overdue") in stages and ("dossier", "held") in stages, stages
    with pytest.raises(urllib.error.HTTPError) as refused:
        _get(f"{base}/api/v1/items", kiosk_token)
    assert refused.value.code == 403
    refused.value.close()


def test_the_daemon_is_commissioned_and_reads_every_board(demo: Demo) -> None:
    reply = call(demo.socket, "commissioning", {}, timeout=10.0)
    assert reply["ok"] and reply["commissioned"], reply
    health = call(demo.socket, "health", {}, timeout=10.0)
    boards = [b for bus in health["buses"] for b in bus["boards"]]
    assert [b["health"] for b in boards] == ["online", "online"], boards
    assert all(r["available"] for r in health["readers"]), health["readers"]


def test_the_printed_swipe_opens_the_certificate_in_the_simulator(demo: Demo) -> None:
    swipe = demo.command(" swipe ")
    cid = demo.value(r"her \(specimen\) ID card on the reader opens (\S+)$")
    done = subprocess.run(swipe, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    status = [*demo.command(" status "), "--json"]

    def door_open() -> bool:
        reply = json.loads(subprocess.check_output(status, text=True, timeout=30))
        row = next(c for c in reply["compartments"] if c["id"] == cid)
        return row["door"] == "open"

    wait_for(door_open, timeout=20, what=f"{cid} open in the simulator", interval=0.3)
    for verb in (" take ", " close "):
        subprocess.run(demo.command(verb), check=True, capture_output=True, timeout=30)

    def collected() -> bool:
        view = next(c for c in demo.state()["compartments"] if c["compartment"] == cid)
        return view["state"] == "free" and not view["items"]

    wait_for(collected, timeout=20, what=f"{cid} free after the pickup", interval=0.3)


def test_the_printed_staff_card_opens_the_dossier_for_the_clerk(demo: Demo) -> None:
    # The simulator's staff-card reader types the card like a keyboard; lockerd's
    # keyboard reader (kind = "hid") reads it, as a hall's badge reader would be read.
    staff_card = demo.command(" staff-card --run-dir ")
    cid = demo.value(r"card at the staff-card reader opens (\S+) to collect")
    done = subprocess.run(staff_card, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    status = [*demo.command(" status "), "--json"]

    def door_open() -> bool:
        reply = json.loads(subprocess.check_output(status, text=True, timeout=30))
        return bool(next(c for c in reply["compartments"] if c["id"] == cid)["door"] == "open")

    wait_for(door_open, timeout=20, what=f"{cid} open for the clerk", interval=0.3)


def test_the_broker_holds_the_lockers_retained_status_and_state(demo: Demo) -> None:
    argv = shlex.split(next(ln for ln in demo.lines if "mosquitto_sub" in ln))
    root = argv[argv.index("-t") + 1].removesuffix("#")
    assert root == "lockers/v1/demo-hall/L01/"
    argv = [a for a in argv if a != argv[argv.index("-t") + 1] and a != "-t"]
    done = subprocess.run(
        [*argv, "-t", f"{root}status", "-t", f"{root}state", "-C", "2", "-W", "30"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    received = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert json.loads(received[f"{root}status"])["state"] == "online"
    state = json.loads(received[f"{root}state"])
    stages = [i["stage"] for c in state["compartments"] for i in c["items"]]
    assert len(state["compartments"]) == 48 and "overdue" in stages, stages


def test_the_printed_lockerctl_shows_the_hall(demo: Demo) -> None:
    done = subprocess.run(
        demo.command("lockerctl"), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "HH-2025-PS-0088 (overdue, social)" in done.stdout, done.stdout


def test_what_an_integrator_needs_is_printed(demo: Demo) -> None:
    # The clerks' cards, each with the simulator line that presents it (locker-sim staff-card).
    for member in STAFF:
        assert re.search(
            rf"^  #\s+{member.card}\s+{member.staff_id}\s+{member.department}\s+{member.role}$",
            demo.text,
            re.MULTILINE,
        ), member
        assert demo.command(f" staff-card --run-dir {demo.run_dir}/sim {member.card}")
    # Where the owner-key secret lives, and the line that computes a key from it.
    secrets = demo.value(r"the secret is \[owner_keys\] version 1 in (\S+);$")
    assert secrets == str(demo.run_dir / "secrets.toml")
    owner_key = demo.command(" owner-key ")
    assert owner_key[-2:] == ["--secrets", secrets]
    done = subprocess.run(
        owner_key, input=ALICE.id_number, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"owner_key=[0-9a-f]{64} key_version:=1\n", done.stdout), done.stdout
    # The technician and admin tokens sign in with their roles; the way to make more is printed.
    base = demo.value(r"^  metrics:\s+(\S+)/metrics$")
    for role in ("technician", "admin"):
        token = demo.value(rf"^  #   {role}\s+(\S+)$")
        status, _, body = _get(f"{base}/api/v1/boards", token)  # technician and admin only
        assert status == 200 and json.loads(body)["boards"], body
        make = demo.command(f"--role {role} --generate")
        assert make[1:3] == ["hash-token", "--name"], make
    assert "`lockerd demo --signed`" in demo.text


def test_no_specimen_number_reaches_a_log_or_the_database(demo: Demo) -> None:
    files = [*demo.run_dir.glob("*.log"), *demo.run_dir.glob("locker.db*")]
    assert any(f.name == "lockerd.log" for f in files), files
    assert_no_personal_data(files, SPECIMENS)


def test_sigint_stops_everything(demo: Demo) -> None:
    run_dir = demo.run_dir
    children = _children_of(demo.process.pid)
    assert len(children) == 3, children  # locker-sim, mosquitto, lockerd
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=60) == 0, demo.text
    wait_for(lambda: "lockerd demo: stopped" in demo.lines, timeout=10, what="the last line")
    assert not run_dir.exists()
    assert not [pid for pid in children if _alive(pid)]
