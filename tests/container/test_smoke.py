"""The image and the compose file, built and run for real (issue 14.12).

`./run.sh container` runs this (scripts/container.sh installs podman and makes
the base image first; CI runs it as its own step): podman builds the
Dockerfile unchanged through podman-compose, and lockerd runs with the compose
file's own options (host network, read-only root, every capability dropped,
no-new-privileges, the tmpfs, the state volume, the configuration mounted
read-only) against the simulator's pseudo-terminals. Then:

1. the image keeps its HEALTHCHECK (Docker format: OCI drops it);
2. `lockerd commission walk --auto` in the container proves the wiring;
3. `lockerd run` in the container answers /api/v1/health on 127.0.0.1:8080,
   healthy and commissioned, `lockerd admin` answers on its socket in the
   tmpfs, and the image's HEALTHCHECK passes;
4. SIGTERM (compose's stop) ends it with exit code 0.

What differs from the compose file, each because podman or this machine has
no other way, is done in `podman_compose_file` and nowhere else: the
simulator's ptys are bind-mounted (a pty passed with --device reads EIO
inside) with their major allowed; the tmpfs's `uid=,gid=` (which podman
refuses) become podman's `U` (owned by the container's user); the host paths
are this test's; the broker service is left out (its image is on a registry).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
CONTAINERS_CONF = ROOT / "deploy" / "podman" / "containers.conf"
ENABLE = "LOCKER_CONTAINER"
LOCKERD_UID = 10001  # the image's lockerd user (Dockerfile)
DIALOUT_GID = 20  # Debian's dialout, the group the image's user has and serial devices carry
PTY_RULE = "c 136:* rwm"  # Unix98 pty slaves (Documentation/admin-guide/devices.txt)
HEALTH_URL = "http://127.0.0.1:8080/api/v1/health"  # what the image's HEALTHCHECK asks
STEP_TIMEOUT_S = 300


@dataclass(frozen=True)
class Site:
    workdir: Path
    compose_file: Path
    project: str

    def compose(
        self, *args: str, timeout: float = STEP_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        command = [_podman_compose(), "-p", self.project, "-f", str(self.compose_file), *args]
        return subprocess.run(
            command, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
        )

    @property
    def container(self) -> str:
        return f"{self.project}_lockerd_1"


def _podman_compose() -> str:
    return str(Path(sys.executable).parent / "podman-compose")


def _env() -> dict[str, str]:
    # runc and explicit ulimits (deploy/podman/containers.conf); Docker's image
    # format, which keeps HEALTHCHECK.
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF), "BUILDAH_FORMAT": "docker"}


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def podman_compose_file(workdir: Path, ptys: dict[str, Path]) -> dict[str, Any]:
    """deploy/compose.yaml's lockerd service with this machine's paths (module docstring)."""
    compose = yaml.safe_load(COMPOSE.read_text())
    service = compose["services"]["lockerd"]
    service["build"]["context"] = str(ROOT)
    compose["services"] = {"lockerd": service}
    service.pop("depends_on", None)
    compose["volumes"] = {"lockerd-state": None}
    # The simulator's ptys, where the adapters would be: bind-mounted, major allowed.
    targets = [device.split(":")[1] for device in service.pop("devices")]
    assert sorted(targets) == sorted(ptys), (targets, ptys)
    mounts = [f"{ptys[target].resolve()}:{target}" for target in targets]
    service["device_cgroup_rules"] = [PTY_RULE]
    host_paths = {"/etc/lockerd": workdir / "etc", "/run/systemd/timesync": workdir / "timesync"}
    for volume in service["volumes"]:
        source, _, rest = volume.partition(":")
        mounts.append(f"{host_paths[source]}:{rest}" if source in host_paths else volume)
    service["volumes"] = mounts
    service["tmpfs"] = [t.replace("uid=10001,gid=10001", "U") for t in service["tmpfs"]]
    return compose


def lockerd_toml(ptys: dict[str, Path]) -> str:
    """examples/lockerd.toml (the simulator's locker) with the container's paths."""
    text = (ROOT / "examples" / "lockerd.toml").read_text()
    for old, new in {
        '"/tmp/lockerd-example/locker.db"': '"/var/lib/lockerd/locker.db"',
        '"/tmp/lockerd-example/secrets.toml"': '"/etc/lockerd/secrets.toml"',
        '"/tmp/lockerd-example/admin.sock"': '"/run/lockerd/admin.sock"',
        '"/tmp/lockerd-example/clock-synchronised"': '"/run/systemd/timesync/synchronized"',
        '"/tmp/locker-sim/ttyLOCKER0"': '"/dev/ttyRS485-0"',
        '"/tmp/locker-sim/ttyIDCARD0"': '"/dev/ttyIDCARD"',
    }.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    assert set(ptys) == {"/dev/ttyRS485-0", "/dev/ttyIDCARD"}
    return text + '\n[http]\nbind = "127.0.0.1"\nport = 8080\n'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if os.environ.get(ENABLE) != "1":
        pytest.skip(f"the container smoke test runs with {ENABLE}=1 (./run.sh container)")
    with socket.socket() as probe:  # lockerd shares the host's network, on the image's port
        try:
            probe.bind(("127.0.0.1", 8080))
        except OSError as exc:
            pytest.fail(f"127.0.0.1:8080 is taken ({exc}): the image's HEALTHCHECK asks that port")
    workdir = tmp_path_factory.mktemp("container")
    sim = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "locker-sim"),
            "serve",
            "--run-dir",
            str(workdir / "sim"),
            "--auto-open",
            "0.05",
            "--auto-close",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    project = f"lockersmoke{uuid.uuid4().hex[:8]}"
    compose_file = workdir / "compose.yaml"
    site = Site(workdir, compose_file, project)
    try:
        assert sim.stdout is not None
        for line in sim.stdout:  # bounded: the simulator prints its ready lines, then waits
            if line.startswith("serving"):
                break
        ptys = {
            "/dev/ttyRS485-0": workdir / "sim" / "ttyLOCKER0",
            "/dev/ttyIDCARD": workdir / "sim" / "ttyIDCARD0",
        }
        for link in ptys.values():
            # as udev leaves a USB adapter: group dialout, 0660
            os.chown(link.resolve(), 0, DIALOUT_GID)
            os.chmod(link.resolve(), 0o660)
        etc = workdir / "etc"
        etc.mkdir()
        (etc / "lockerd.toml").write_text(lockerd_toml(ptys))
        secrets = etc / "secrets.toml"
        shutil.copy(ROOT / "examples" / "lockerd-secrets.toml", secrets)
        os.chown(secrets, LOCKERD_UID, LOCKERD_UID)
        secrets.chmod(0o600)
        (workdir / "timesync").mkdir()
        (workdir / "timesync" / "synchronized").touch()
        compose_file.write_text(yaml.safe_dump(podman_compose_file(workdir, ptys)))
        yield site
    finally:
        done = site.compose("down", "-v", timeout=120)
        assert done.returncode == 0, done.stderr
        sim.terminate()
        sim.wait(timeout=30)
        assert sim.stdout is not None
        sim.stdout.close()


def wait_for_health(deadline_s: float) -> dict[str, Any]:
    last: object = None
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:  # bounded
        try:
            with urllib.request.urlopen(HEALTH_URL, timeout=4) as response:
                body = json.load(response)
                if body.get("status") == "ok":
                    return dict(body)
                last = body
        except OSError as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"no healthy answer from {HEALTH_URL} in {deadline_s} s: {last}")


@pytest.mark.timeout(1200)
def test_build_commission_run_and_stop(site: Site) -> None:
    # The Dockerfile, unchanged, through compose's build section.
    built = site.compose("build", timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    image = json.loads(podman("image", "inspect", "lockerd:local").stdout)[0]
    # Docker's manifest: the OCI image format has no HEALTHCHECK and podman drops it.
    assert image["ManifestType"] == "application/vnd.docker.distribution.manifest.v2+json"
    health = image.get("Healthcheck")
    assert health and "/api/v1/health" in " ".join(health["Test"]), image

    # Commissioning: the walk, in the container, against the simulator's boards.
    walk = site.compose(
        "run",
        "--rm",
        "--entrypoint",
        "lockerd",
        "lockerd",
        "commission",
        "walk",
        "--auto",
        "--config",
        "/etc/lockerd/lockerd.toml",
    )
    assert walk.returncode == 0, walk.stdout[-3000:] + walk.stderr[-3000:]
    assert "walked 48: 48 passed, 0 failed" in walk.stdout, walk.stdout[-3000:]

    # The daemon, with the compose file's options.
    up = site.compose("up", "-d", "--no-build")
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    inspect = json.loads(podman("container", "inspect", site.container).stdout)[0]
    host = inspect["HostConfig"]
    assert host["NetworkMode"] == "host" and host["ReadonlyRootfs"] is True
    assert "no-new-privileges" in " ".join(host["SecurityOpt"])
    assert inspect["Config"]["User"] == "lockerd"
    # lockerd is process 1, with no capability at all (effective, bounding)
    proc = podman("exec", site.container, "cat", "/proc/1/status", "/proc/1/cmdline")
    assert proc.returncode == 0 and "lockerd" in proc.stdout, proc.stdout + proc.stderr
    caps = dict(ln.split(":\t") for ln in proc.stdout.splitlines() if ln.startswith("Cap"))
    assert int(caps["CapEff"], 16) == 0 and int(caps["CapBnd"], 16) == 0, caps
    body = wait_for_health(120)
    assert body["commissioned"] is True, body
    assert [bus["bus"] for bus in body["buses"]] == ["bus0"], body  # "ok": its port open,
    assert [reader["available"] for reader in body["readers"]] == [True], body  # boards online

    # The admin socket in the tmpfs (/run/lockerd, owned by lockerd through podman's U).
    admin = podman(
        "exec", site.container, "lockerd", "admin", "--socket", "/run/lockerd/admin.sock", "state"
    )
    assert admin.returncode == 0, admin.stdout + admin.stderr
    assert json.loads(admin.stdout)["ok"] is True, admin.stdout

    # The image's own HEALTHCHECK, run by podman in the container.
    check = podman("healthcheck", "run", site.container)
    assert check.returncode == 0, check.stdout + check.stderr
    status = podman("inspect", "--format", "{{.State.Health.Status}}", site.container)
    assert status.stdout.strip() == "healthy", status.stdout + status.stderr

    # SIGTERM (compose's stop, the image's STOPSIGNAL): a clean exit.
    stopped = site.compose("stop")
    assert stopped.returncode == 0, stopped.stderr
    code = podman("inspect", "--format", "{{.State.ExitCode}}", site.container)
    assert code.stdout.strip() == "0", (code.stdout, podman("logs", site.container).stderr[-3000:])
