"""A card reader's faults by code, its line counters and its SAM id, as health and
/metrics show them (docs/id-card-reader.md). The figures are given as the daemon
hands them over (`ReaderFigures`, from `ThreadedReader.statistics()`): the counting
itself is tested in tests/readers, end to end in tests/e2e/test_reader_field.py."""

from __future__ import annotations

from pathlib import Path

import httpx

from locker_host.api.context import ReaderFigures

from .rig import api_rig

IDCARD = ReaderFigures(
    name="idcard",
    available=True,
    readings=7,
    faults=2,
    last_fault="read_failed",
    faults_by_code={"read_failed": 1, "card_not_valid": 1},
    line={"garbled_replies": 3, "repeats_dropped": 4},
    details={"sam_id": "05.01-20101224-0000123456-1234567890"},
)


async def test_health_and_metrics_show_the_readers_faults_and_line(tmp_path: Path) -> None:
    async with api_rig(tmp_path) as rig:
        app = rig.app_with(readers=lambda: [IDCARD])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://locker") as client:
            health = (await client.get("/api/v1/health")).json()
            metrics = (await client.get("/metrics")).text
    (reader,) = health["readers"]
    assert reader["faults_by_code"] == {"read_failed": 1, "card_not_valid": 1}
    assert reader["line"] == {"garbled_replies": 3, "repeats_dropped": 4}
    assert reader["details"] == {"sam_id": "05.01-20101224-0000123456-1234567890"}
    assert 'locker_reader_up{reader="idcard"} 1.0' in metrics
    assert 'locker_reader_readings_total{reader="idcard"} 7.0' in metrics
    assert 'locker_reader_faults_total{code="read_failed",reader="idcard"} 1.0' in metrics
    assert 'locker_reader_faults_total{code="card_not_valid",reader="idcard"} 1.0' in metrics
    assert 'locker_reader_line_total{kind="repeats_dropped",reader="idcard"} 4.0' in metrics
