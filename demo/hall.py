"""`lockerd demo`: the demo hall's files: configuration, fresh secrets, tokens, broker config.

Everything the demo writes into its run directory is made here, from the
ports the children got and secrets drawn afresh for every run: the
`lockerd.toml` (site `demo-hall`, locker `L01`, the simulator's default
locker of two reference boards with 24 channels each at 19200 8E1), its
`secrets.toml` (mode 0600), the "clock is synchronised" flag and the
Mosquitto configuration. The people of the demo are here too: the staff
cards (demo numbers, typed by the simulator's staff-card reader) and the
citizens, known by GB 11643 **specimen** ID numbers (the standard's own
example and the numbers the test suite uses), never real ones.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from locker_host.api import token_digest
from locker_host.daemon.config.mqtt import COMMANDS
from locker_host.domain import Keyring, owner_refs, validate_id_number
from locker_host.readers import staff_card_digests

SITE, LOCKER = "demo-hall", "L01"
COMMAND_KEY_ID = "demo-central"  # `lockerd demo --signed`: the central system's signing key
BOARDS, CHANNELS = 2, 24  # locker-sim serve's default locker
COLUMN_SIZES = "SSSMMMLL"  # rows 1-3 S, 4-6 M, 7-8 L (the simulator's default column)
ROW_HEIGHTS_MM = (1700, 1520, 1340, 1160, 980, 800, 620, 440)


@dataclass(frozen=True)
class Citizen:
    name: str  # how the demo talks about them; never in a file lockerd reads
    id_number: str  # a GB 11643 specimen number


# Specimen numbers (valid check characters, not people): the GB 11643 example,
# and numbers the test suite uses (tests/readers/numbers.py).
ALICE = Citizen("Alice", "11010519491231002X")
BOB = Citizen("Bob", "130981199003071232")
CAROL = Citizen("Carol", "810000199001011230")  # a Hong Kong residents' permit
DAVE = Citizen("Dave", "820000198505055672")  # a Macao residents' permit


@dataclass(frozen=True)
class StaffMember:
    card: str  # a demo card number (10 digits: the readers' default staff pattern)
    staff_id: str
    department: str
    role: str


MARKET_CLERK = StaffMember("0012345678", "M-001", "market", "clerk")
TAX_CLERK = StaffMember("0023456789", "T-001", "tax", "clerk")
SOCIAL_CLERK = StaffMember("0034567890", "S-001", "social", "clerk")
TECHNICIAN = StaffMember("0087654321", "X-001", "market", "technician")
STAFF = (MARKET_CLERK, TAX_CLERK, SOCIAL_CLERK, TECHNICIAN)

DEPARTMENTS = (
    ("market", "市场监督管理局", "Market Regulation"),
    ("tax", "税务局", "Taxation"),
    ("social", "人力资源和社会保障局", "Human Resources and Social Security"),
)
SERVICES = (  # name, department, size, zh, en
    ("business_licence", "market", "M", "营业执照申请", "Business licence application"),
    ("tax_registration", "tax", "S", "税务登记", "Tax registration"),
    ("pension", "social", "S", "养老保险", "Pension insurance"),
)


@dataclass(frozen=True)
class SimulatorPorts:
    bus: Path  # the first bus's device link
    reader: Path  # the simulated SAM ID-card reader's device link
    staff_reader: Path  # the simulated staff-card reader's (a keyboard wedge: key strokes)


@dataclass(frozen=True)
class Hall:
    """What the demo wrote and what it needs to drive the hall it describes."""

    run_dir: Path
    config: Path
    secrets: Path
    database: Path
    admin_socket: Path
    owner_keys: Keyring
    kiosk_token: str
    staff_token: str
    technician_token: str
    admin_token: str
    http_port: int
    mqtt_port: int
    command_key: Path | None  # --signed: the signing key, in hex as in the secrets file

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def owner_key(self, citizen: Citizen) -> str:
        """What the central system would send for this citizen (it knows the same secret)."""
        return owner_refs(self.owner_keys, validate_id_number(citizen.id_number))[0].key


def compartment_ids() -> list[str]:
    """A01..F08: column letter, row from the top, 8 rows a column, as the simulator names them."""
    rows = len(COLUMN_SIZES)
    return [f"{chr(ord('A') + k // rows)}{k % rows + 1:02d}" for k in range(BOARDS * CHANNELS)]


def write_hall(
    run_dir: Path, sim: SimulatorPorts, *, http_port: int, mqtt_port: int, signed: bool = False
) -> Hall:
    """``signed``: every MQTT command needs a signature with a key drawn for this run,
    which is written to ``central-key.hex`` as well (what `lockerctl send` signs with)."""
    owner, codes, staff, command = (secrets.token_bytes(32) for _ in range(4))
    mqtt = f'[mqtt]\ncommand_keys = {{ {COMMAND_KEY_ID} = "{command.hex()}" }}\n'
    secrets_path = _private_file(
        run_dir / "secrets.toml",
        "# lockerd demo: drawn for this run only\n"
        + "".join(
            f'[{table}]\ncurrent = 1\nsecrets = {{ 1 = "{key.hex()}" }}\n'
            for table, key in (("owner_keys", owner), ("code_keys", codes), ("staff_keys", staff))
        )
        + (mqtt if signed else ""),
    )
    command_key = None
    if signed:
        command_key = _private_file(run_dir / "central-key.hex", command.hex() + "\n")
    flag = run_dir / "clock-synchronised"  # this machine's clock is as good as it gets here
    flag.touch()
    hall = Hall(
        run_dir=run_dir,
        config=run_dir / "lockerd.toml",
        secrets=secrets_path,
        database=run_dir / "locker.db",
        admin_socket=run_dir / "admin.sock",
        owner_keys=Keyring({1: owner}, 1),
        kiosk_token=secrets.token_urlsafe(24),
        staff_token=secrets.token_urlsafe(24),
        technician_token=secrets.token_urlsafe(24),
        admin_token=secrets.token_urlsafe(24),
        http_port=http_port,
        mqtt_port=mqtt_port,
        command_key=command_key,
    )
    hall.config.write_text(_config_text(hall, sim, flag, Keyring({1: staff}, 1)), encoding="utf-8")
    return hall


def mosquitto_config(port: int) -> str:
    """A loopback-only broker for the demo: anonymous (nothing leaves this machine), in memory."""
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        "persistence false",
        "set_tcp_nodelay true",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
    ]
    if os.geteuid() == 0:
        # Mosquitto 2 started as root drops to user `mosquitto`, which cannot
        # read a configuration in a private run directory (tests/mqtt/broker.py).
        lines.append("user root")
    return "\n".join(lines) + "\n"


def _private_file(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    return path


def _config_text(hall: Hall, sim: SimulatorPorts, flag: Path, staff_keys: Keyring) -> str:
    rows = len(COLUMN_SIZES)
    compartments = "\n".join(
        f'  {{ id = "{cid}", size = "{COLUMN_SIZES[k % rows]}", unit = {k // CHANNELS + 1}, '
        f"channel = {k % CHANNELS + 1}, height_mm = {ROW_HEIGHTS_MM[k % rows]} }},"
        for k, cid in enumerate(compartment_ids())
    )
    boards = "".join(
        f'\n[[buses.boards]]\nfamily = "reference"\nunit = {unit}\nchannels = {CHANNELS}\n'
        for unit in range(1, BOARDS + 1)
    )
    departments = "".join(
        f'\n[[departments]]\nid = "{d}"\nlabels = {{ zh = "{zh}", en = "{en}" }}\n'
        for d, zh, en in DEPARTMENTS
    )
    if hall.command_key is None:
        # Nobody acknowledges events in the demo: do not re-send them.
        mqtt = "resend_unacked_after_s = 0\n"
    else:
        # As a central system meets it: signatures on every command, events re-sent
        # at the normal interval until acknowledged.
        mqtt = f"signed_commands = {json.dumps(list(COMMANDS))}\n"
    tokens = "".join(
        f'\n[[http.tokens]]\nname = "demo-{role}"\nrole = "{role}"\n'
        f'sha256 = "{token_digest(token)}"\n'
        for role, token in (
            ("kiosk", hall.kiosk_token),
            ("staff", hall.staff_token),
            ("technician", hall.technician_token),
            ("admin", hall.admin_token),
        )
    )
    services = "".join(
        f'\n[[services]]\nname = "{name}"\ndepartment = "{d}"\nsize = "{size}"\n'
        f'labels = {{ zh = "{zh}", en = "{en}" }}\n'
        for name, d, size, zh, en in SERVICES
    )
    staff = "".join(
        f'\n[[staff]]\ncard_digest = "{staff_card_digests(staff_keys, s.card)[0].digest}"\n'
        f'key_version = 1\nstaff_id = "{s.staff_id}"\ndepartment = "{s.department}"\n'
        f'role = "{s.role}"\n'
        for s in STAFF
    )
    return f"""\
# Written by `lockerd demo` for this run only (docs/configuration.md has every key).
site = "{SITE}"
locker = "{LOCKER}"

compartments = [
{compartments}
]

[paths]
database = "{hall.database}"
secrets = "{hall.secrets}"
admin_socket = "{hall.admin_socket}"

[log]
level = "info"

[clock]
synchronised_flag = "{flag}"
wall_recheck_s = 1.0   # the demo's overdue certificate is due seconds after start-up

[policy]
pulse_ms = 500

[timers]
open_confirm_timeout_s = 10.0
door_ajar_timeout_s = 120.0

[kiosk]
dropoff_arm_timeout_s = 120.0

[mqtt]
host = "127.0.0.1"   # the demo's own Mosquitto (anonymous, loopback only)
port = {hall.mqtt_port}
{mqtt}
[http]
bind = "127.0.0.1"
port = {hall.http_port}
{tokens}
[[buses]]
name = "bus0"
port = "{sim.bus}"
baud = 19200
format = "8E1"
poll_interval = 0.2
{boards}
[[readers]]
kind = "sam"
name = "idcard"
port = "{sim.reader}"
poll_interval = 0.2

[[readers]]
kind = "hid"
name = "staff"
path = "{sim.staff_reader}"
grab = false  # the simulator's keyboard wedge is a pty, which cannot be grabbed
{departments}{services}{staff}"""
