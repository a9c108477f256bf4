"""Issue 7.3: the shipped broker configuration (deploy/mosquitto/mosquitto.conf, run as
written, with only its paths and port changed) is TLS only, admits no anonymous client
and confines a locker to its own topics. tests/mqtt/test_security.py checks the ACL and
credentials on a plaintext test listener, mutual TLS on its own, and that the sample
file parses; this runs the sample file itself, without any extra listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mqtt_bridge import TlsFiles, Topics
from tests.mqtt.broker import MOSQUITTO, free_port
from tests.mqtt.central import Central
from tests.mqtt.certs import OPENSSL, make_pki
from tests.mqtt.test_security import PASSWORDS, ROOT, sample_configuration

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")

L1, L2 = Topics("hall1", "L1"), Topics("hall1", "L2")


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[tuple[int, TlsFiles, TlsFiles]]:
    pki = make_pki(tmp_path / "pki", clients={})
    rogue = make_pki(tmp_path / "rogue", clients={}, authority="rogue")
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(sample_configuration(tmp_path, pki, port) + "user root\n")
    log = (tmp_path / "mosquitto.log").open("wb")
    process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            assert process.poll() is None, (tmp_path / "mosquitto.log").read_text()
            assert time.monotonic() < deadline, "the sample broker did not listen"
            time.sleep(0.05)
        yield port, TlsFiles(pki.ca), TlsFiles(rogue.ca)
    finally:
        process.kill()
        process.wait(timeout=10)
        log.close()


def test_the_sample_has_one_listener_and_it_is_tls() -> None:
    lines = [
        line.split("#")[0].strip()
        for line in (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text().splitlines()
    ]
    listeners = [line for line in lines if line.startswith("listener")]
    assert listeners == ["listener 8883"], listeners
    for needed in (
        "allow_anonymous false",
        "password_file",
        "acl_file",
        "cafile",
        "certfile",
        "keyfile",
    ):
        assert any(line.startswith(needed) for line in lines), needed


def test_plaintext_is_not_spoken(sample: tuple[int, TlsFiles, TlsFiles]) -> None:
    port, _, _ = sample

    async def attempt() -> None:
        client = Central(port, username="central", password=PASSWORDS["central"])
        await client.connect(timeout=3)

    with pytest.raises((ConnectionError, OSError, TimeoutError)):
        asyncio.run(attempt())


def test_tls_without_credentials_or_with_an_untrusted_broker_is_refused(
    sample: tuple[int, TlsFiles, TlsFiles],
) -> None:
    port, trusted, rogue_ca = sample

    async def anonymous() -> None:
        await Central(port, tls=trusted).connect(timeout=5)

    async def wrong_password() -> None:
        await Central(port, tls=trusted, username="hall1/L1", password="nope").connect(timeout=5)

    with pytest.raises(ConnectionRefusedError):
        asyncio.run(anonymous())
    with pytest.raises(ConnectionRefusedError):
        asyncio.run(wrong_password())
    # The client checks the broker's certificate (paho's tls_set does the same): the real
    # CA verifies it, another CA does not.
    for ca, trusted_ca in ((trusted.ca_file, True), (rogue_ca.ca_file, False)):
        context = ssl.create_default_context(cafile=str(ca))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            if trusted_ca:
                with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    assert tls.version() in ("TLSv1.2", "TLSv1.3")
            else:
                with pytest.raises(ssl.SSLCertVerificationError):
                    context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_a_locker_over_tls_is_confined_to_its_own_topics(
    sample: tuple[int, TlsFiles, TlsFiles],
) -> None:
    port, trusted, _ = sample

    async def run() -> tuple[list[str], list[str]]:
        ops = Central(port, tls=trusted, username="central", password=PASSWORDS["central"])
        await ops.connect()
        await ops.subscribe("lockers/v1/#")
        locker = Central(
            port,
            tls=trusted,
            username="hall1/L1",
            password=PASSWORDS["hall1/L1"],
            client_id="locker-hall1-L1",
        )
        await locker.connect()
        await locker.publish(L1.status, b'{"own": true}')
        for topic in (L2.status, L2.events, L1.command("open"), "lockers/v1/other/x"):
            await locker.publish(topic, b'{"forged": true}')
        await ops.receive(lambda m: m.topic == L1.status)
        await asyncio.sleep(0.5)
        forged = [m.topic for m in ops.unread(lambda m: b"forged" in m.payload)]
        refused = list(locker.refused)
        await locker.close()
        await ops.close()
        return refused, forged

    refused, forged = asyncio.run(run())
    assert refused == ["Not authorized"] * 4
    assert forged == []
