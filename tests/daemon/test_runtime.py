"""The composition root in process: start, serve, stop; housekeeping on its schedule."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from locker_host.daemon import parse_config, run_daemon
from locker_host.daemon.admin import call
from locker_host.daemon.config.policy import Housekeeping
from locker_host.daemon.housekeeping import Housekeeper
from simulator.layout import simple_layout

from .conftest import SimFactory
from .parts import Parts


def done_jobs(caplog: pytest.LogCaptureFixture, message: str) -> list[str]:
    return [r.job for r in caplog.records if r.getMessage() == message]  # type: ignore[attr-defined]


async def test_housekeeping_waits_for_a_trusted_clock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parts = await Parts.open(tmp_path)
    try:
        keeper = Housekeeper(parts.service, Housekeeping(), first_run_delay_s=0)
        parts.clock.trusted = False
        for job in keeper.jobs:
            await keeper.run_job(job)
        assert done_jobs(caplog, "housekeeping done") == ["checkpoint"]
        assert done_jobs(caplog, "housekeeping waits for a trusted clock") == [
            "purge_personal_data",
            "forget_expired_commands",
        ]
        parts.clock.trusted = True
        for job in keeper.jobs:
            await keeper.run_job(job)
        assert done_jobs(caplog, "housekeeping done") == [
            "checkpoint",
            "purge_personal_data",
            "forget_expired_commands",
            "checkpoint",
        ]
    finally:
        await parts.close()


def secrets(path: Path) -> Path:
    path.write_text(
        '[owner_keys]\ncurrent = 1\nsecrets = { 1 = "' + "0f" * 32 + '" }\n'
        '[code_keys]\ncurrent = 1\nsecrets = { 1 = "' + "c0" * 32 + '" }\n'
        '[staff_keys]\ncurrent = 1\nsecrets = { 1 = "' + "5a" * 32 + '" }\n'
    )
    path.chmod(0o600)
    return path


async def test_the_daemon_serves_until_told_to_stop(
    tmp_path: Path, make_sim: SimFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sim = make_sim(simple_layout(boards=1, channels=4, baud=115200, frame="8N1"))
    assert sim.card_reader is not None
    data: dict[str, Any] = {
        "site": "hh",
        "locker": "L1",
        "compartments": [{"id": f"A0{n}", "size": "S", "unit": 1, "channel": n} for n in (1, 2)],
        "paths": {
            "database": "locker.db",
            "secrets": str(secrets(tmp_path / "secrets.toml")),
            "admin_socket": "admin.sock",
        },
        "buses": [
            {
                "port": str(sim.fronts["bus0"].pty.link),
                "baud": 115200,
                "format": "8N1",
                "poll_interval": 0.05,
                "boards": [{"unit": 1, "channels": 4}],
            }
        ],
        "readers": [{"kind": "sam", "port": str(sim.card_reader.pty.link)}],
    }
    config = parse_config(data, tmp_path)
    stop = asyncio.Event()
    daemon = asyncio.create_task(run_daemon(config, stop))

    async def ask(name: str) -> dict[str, Any]:
        return await asyncio.to_thread(call, config.paths.admin_socket, name, {}, timeout=5)

    for _ in range(200):
        if config.paths.admin_socket.exists():
            break
        await asyncio.sleep(0.05)
    for _ in range(100):
        health = await ask("health")
        if health["buses"][0]["boards"][0]["health"] == "online":
            break
        await asyncio.sleep(0.05)
    assert health["buses"][0]["boards"][0]["health"] == "online", health
    assert (await ask("commissioning"))["commissioned"] is False
    stop.set()
    await asyncio.wait_for(daemon, timeout=10)
    assert not config.paths.admin_socket.exists()
    messages = [r.getMessage() for r in caplog.records if r.name == "locker_host.daemon.runtime"]
    assert messages[-3:] == ["stopping", "stopped", "store closed"]
    assert any(
        r.levelno == logging.WARNING and "not commissioned" in r.getMessage()
        for r in caplog.records
    )
