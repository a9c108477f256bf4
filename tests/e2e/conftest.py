"""End to end: `lockerd run` (a subprocess) against the simulator, or against real hardware.

Every test gets a fresh rig, a fresh database copied from a commissioned
one (the walk itself is tested on its own, and walking per test would cost
seconds each), and a running lockerd. At the end the daemon is stopped with
SIGTERM (it must exit 0: a clean shutdown), and its log and every SQLite
file are searched for the raw test ID numbers: none may be there.

Hardware in the loop: the `hardware` parameter of the `rig` fixture runs
the same tests against real boards and a real reader when these are set,
and is skipped otherwise. The flows and the faults also run on the Kerong
sites (`SITES`: a Kerong bus, once with each firmware variant of its
boards, and a mixed site of a Modbus bus and a Kerong bus), through
`pytestmark = pytest.mark.parametrize("rig", ALL_SITES, ...)`:

    LOCKER_HIL_PORT     the RS-485 adapter (e.g. /dev/serial/by-id/usb-FTDI-...)
    LOCKER_HIL_READER   the SAM ID-card reader's serial port
    LOCKER_HIL_CONFIG   a lockerd.toml with the rig's buses, boards and compartments;
                        its database must hold a passed commissioning walk
    LOCKER_HIL_CARD     the test ID card's number (to reserve certificates for it)

    LOCKER_HIL_PORT=... pytest -m hardware -s tests/e2e    (-s: the operator is asked)
"""

from __future__ import annotations

import os
import shutil
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from locker_host.daemon import load_config

from .lockerd import Lockerd, base_config, merged, run_cli, sim_compartments, write_config
from .rig import SIM_BOARDS, SIM_CHANNELS, SITES, HardwareRig, Rig, SimRig

# Test ID numbers (valid GB 11643 shapes, not real people).
ALICE = "11010519491231002X"
BOB = "130981199003071232"
CAROL = "810000199001011230"
RAW_IDS = (ALICE, BOB, CAROL)

HIL_VARIABLES = ("LOCKER_HIL_PORT", "LOCKER_HIL_READER", "LOCKER_HIL_CONFIG", "LOCKER_HIL_CARD")
HIL_TIMERS = {"open_confirm_timeout_s": 15.0, "door_ajar_timeout_s": 120.0}
HARDWARE = pytest.param("hardware", marks=pytest.mark.hardware)
SIMPLE_SITES = ("sim", "micropython")  # one bus of reference boards
# The Kerong and mixed sites repeat every flow and fault on other boards: they
# run in CI's second step (`./run.sh test -m slow`), not in the default suite.
ALL_SITES = [
    *(s if s in SIMPLE_SITES else pytest.param(s, marks=pytest.mark.slow) for s in SITES),
    HARDWARE,
]
# The micropython site (the firmware in real MicroPython) runs every flow and
# fault in the slow suite, and these in the default one.
MICROPYTHON_IN_DEFAULT_SUITE = {
    "test_dropoff_by_card_then_staff_collection",
    "test_certificate_reserve_load_and_pickup_by_card",
    "test_forced_door_raises_an_alarm",
    "test_kill_9_in_the_middle_of_an_open_then_restart",
    "test_a_board_power_cut_opens_nothing_and_the_board_is_configured_again",
}


@pytest.hookimpl(tryfirst=True)  # before -m selects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or callspec.params.get("rig") != "micropython":
            continue
        if getattr(item, "originalname", item.name) not in MICROPYTHON_IN_DEFAULT_SUITE:
            item.add_marker(pytest.mark.slow)


def sim_boards() -> list[dict[str, Any]]:
    return [
        {"family": "reference", "unit": unit, "channels": SIM_CHANNELS}
        for unit in range(1, SIM_BOARDS + 1)
    ]


def sim_site_config(rig: SimRig, workdir: Path) -> dict[str, Any]:
    """The lockerd configuration of a simulated site: its buses, boards and compartments."""
    config = base_config(
        workdir,
        bus_port=rig.bus_port,
        reader_port=rig.reader_port,
        staff_reader=rig.staff_reader,
        scanner_port=str(rig.scanner.link),
        compartments=sim_compartments(),
        boards=sim_boards(),
    )
    if rig.site in SIMPLE_SITES:
        return config
    layout = rig.sim.world.layout
    template = config["buses"][0]
    config["buses"] = [
        {
            **template,
            "name": bus.name,
            "port": rig.bus_ports[bus.name],
            "baud": bus.format.baud,
            "format": bus.format.name,
            "boards": [
                {"family": b.family, "unit": b.unit, "channels": b.channels}
                | ({"unlock_ms": b.unlock_ms} if b.dialect == "kerong" else {})
                for b in bus.boards
            ],
        }
        for bus in layout.buses
    ]
    config["compartments"] = [
        {
            "id": c.id,
            "size": c.size.value,
            "bus": c.bus,
            "unit": c.lock.unit,
            "channel": c.lock.channel,
        }
        for c in layout.compartments
    ]
    return config


@pytest.fixture(scope="session")
def commissioned_dbs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Per site, a database whose commissioning record covers the simulator's map
    (`walk --auto`), walked once per session."""
    walked: dict[str, Path] = {}

    def commissioned(site: str) -> Path:
        if site == "micropython":
            site = "sim"  # the same map; the walk itself runs on the cpython engine
        if site in walked:
            return walked[site]
        workdir = tmp_path_factory.mktemp(f"commissioned-{site}")
        rig = SimRig(workdir / "run", site)
        try:
            # Kerong boards have no latch: a door must stay open until a poll sees it.
            rig.doors_open_by_themselves(None, close_after=0.1 if site == "sim" else 0.5)
            path = write_config(workdir / "lockerd.toml", sim_site_config(rig, workdir))
            done = run_cli("commission", "walk", "--auto", "--config", str(path), "--timeout", "5")
            assert done.returncode == 0, (
                f"the commissioning walk failed:\n{done.stdout}\n{done.stderr}"
            )
            assert "locker commissioned" in done.stdout, done.stdout
        finally:
            rig.close_rig()
        walked[site] = workdir / "locker.db"
        return walked[site]

    return commissioned


def _hil_settings() -> dict[str, str]:
    missing = [name for name in HIL_VARIABLES if not os.environ.get(name)]
    if missing:
        pytest.skip(
            "hardware in the loop needs " + ", ".join(missing) + " (see tests/e2e/conftest.py)"
        )
    try:
        open("/dev/tty").close()
    except OSError:
        pytest.skip("hardware in the loop needs an operator at a terminal (run pytest -s)")
    return {name: os.environ[name] for name in HIL_VARIABLES}


@dataclass
class Locker:
    rig: Rig
    lockerd: Lockerd
    config: dict[str, Any]
    workdir: Path
    card: dict[str, str]  # test identity name -> the ID number the rig can present

    def compartments(self, size: str | None = None) -> list[str]:
        return [cid for cid, s, _, _ in self.rig.compartments() if size is None or s == size]

    def wiring(self, cid: str) -> tuple[int, int]:
        return next((u, c) for i, _, u, c in self.rig.compartments() if i == cid)

    def on_bus(self, bus: str) -> list[tuple[str, int]]:
        """(compartment, unit) of every compartment on `bus`, in order."""
        first = self.config["buses"][0].get("name", "bus0")
        return [
            (c["id"], c["unit"]) for c in self.config["compartments"] if c.get("bus", first) == bus
        ]

    def has_item_sensor(self, cid: str) -> bool:
        spec = next(c for c in self.config["compartments"] if c["id"] == cid)
        if "sensors" in spec:
            return "item_sensor" in spec["sensors"]
        bus = next(
            b for b in self.config["buses"] if b.get("name", "bus0") == spec.get("bus", self.bus)
        )
        board = next(b for b in bus["boards"] if b["unit"] == spec["unit"])
        return bool(board.get("family") != "kerong_cu48")

    @property
    def bus(self) -> str:
        name: str = self.config["buses"][0].get("name", "bus0")
        return name

    def reconfigure(self, changes: dict[str, Any]) -> None:
        self.config = merged(self.config, changes)
        write_config(self.lockerd.config_path, self.config)


@pytest.fixture(params=["sim", HARDWARE])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    if request.param in SITES:
        sim = SimRig(tmp_path / "run", request.param)
        yield sim
        sim.close_rig()
        return
    settings = _hil_settings()
    hil = load_config(settings["LOCKER_HIL_CONFIG"])
    layout = [
        (s.id, s.size.value, s.wiring.board.address, s.wiring.channel) for s in hil.locker.layout
    ]
    hardware = HardwareRig(
        tmp_path / "run", settings["LOCKER_HIL_PORT"], settings["LOCKER_HIL_READER"], layout
    )
    yield hardware
    hardware.close_rig()


def _config_for(rig: Rig, workdir: Path) -> tuple[dict[str, Any], Path | None, dict[str, str]]:
    scanner = str(rig.scanner.link)
    if isinstance(rig, SimRig):
        return sim_site_config(rig, workdir), None, {"alice": ALICE, "bob": BOB, "carol": CAROL}
    settings = _hil_settings()
    path = Path(settings["LOCKER_HIL_CONFIG"])
    hardware = tomllib.loads(path.read_text(encoding="utf-8"))
    config = base_config(
        workdir,
        bus_port=rig.bus_port,
        reader_port=rig.reader_port,
        staff_reader=rig.staff_reader,
        scanner_port=scanner,
        compartments=hardware["compartments"],
        boards=[],
    )
    # The rig's own buses and boards, on the adapter named; everything else is the test's.
    config["buses"] = hardware["buses"]
    config["buses"][0]["port"] = settings["LOCKER_HIL_PORT"]
    config["timers"] = {**config["timers"], **HIL_TIMERS}
    card = settings["LOCKER_HIL_CARD"]
    database = load_config(path).paths.database
    return config, database, {"alice": card, "bob": card, "carol": card}


@pytest.fixture
def locker_overrides() -> dict[str, Any]:
    """Configuration a test module adds at run time (a module overrides this fixture)."""
    return {}


@pytest.fixture
def locker(
    rig: Rig, tmp_path: Path, request: pytest.FixtureRequest, locker_overrides: dict[str, Any]
) -> Iterator[Locker]:
    workdir = tmp_path / "lockerd"
    workdir.mkdir()
    config, hil_db, cards = _config_for(rig, workdir)
    marker = request.node.get_closest_marker("locker_config")
    if marker is not None:
        config = merged(config, marker.args[0])
    config = merged(config, locker_overrides)
    path = write_config(workdir / "lockerd.toml", config)
    database = Path(config["paths"]["database"])
    if request.node.get_closest_marker("uncommissioned") is None:
        source = hil_db
        if source is None:
            assert isinstance(rig, SimRig)
            source = request.getfixturevalue("commissioned_dbs")(rig.site)
        for suffix in ("", "-wal"):
            if Path(f"{source}{suffix}").exists():
                shutil.copy(f"{source}{suffix}", f"{database}{suffix}")
    lockerd = Lockerd(
        path, workdir / "lockerd.log", Path(config["paths"]["admin_socket"]), database
    )
    bundle = Locker(rig, lockerd, config, workdir, cards)
    lockerd.start()
    if isinstance(rig, SimRig):
        lockerd.wait_boards_online()
    try:
        yield bundle
        if lockerd.process is not None:
            code = lockerd.stop()
            assert code == 0, (
                f"lockerd did not stop cleanly on SIGTERM ({code}):\n{lockerd.log_tail()}"
            )
    finally:
        lockerd.close()
    assert_no_personal_data(lockerd.files(), set(cards.values()) | set(RAW_IDS))


def assert_no_personal_data(files: list[Path], numbers: set[str]) -> None:
    """No raw ID number, nor its area-and-birth-date part, in a log or a SQLite file."""
    for path in files:
        if not path.exists():
            continue
        data = path.read_bytes().upper()
        for number in numbers:
            for part in (number.upper(), number.upper()[:14]):
                assert part.encode() not in data, f"{part[:6]}… appears in {path.name}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "locker_config(changes): merged into the e2e configuration")
    config.addinivalue_line("markers", "uncommissioned: start from an empty database")
