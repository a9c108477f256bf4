"""TLS, per-locker credentials and the shipped ACL (deploy/mosquitto/acl, used verbatim):
a locker works on its own topics and cannot publish under, or read, another locker's."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mqtt_bridge import BridgeConfig, BridgeConfigError, Broker, TlsFiles, Topics
from tests.app.harness import Locker

from .broker import Mosquitto, free_port
from .central import Central
from .certs import OPENSSL, Pki, make_pki
from .harness import LOCKER, SITE, TOPICS, WAIT_S, bridge_config, bridge_for, running
from .test_events import _until

ROOT = Path(__file__).resolve().parents[2]
ACL = ROOT / "deploy" / "mosquitto" / "acl"
L2 = Topics(SITE, "L2")
PASSWORDS = {"central": "central-pw", f"{SITE}/{LOCKER}": "l1-pw", f"{SITE}/L2": "l2-pw"}

needs_openssl = pytest.mark.skipif(
    OPENSSL is None, reason="TLS tests need the openssl command (apt-get install openssl)"
)


def password_file(path: Path) -> Path:
    tool = shutil.which("mosquitto_passwd")
    assert tool, "mosquitto_passwd comes with the mosquitto package"
    for user, password in PASSWORDS.items():
        flags = ["-b"] if path.exists() else ["-b", "-c"]
        subprocess.run([tool, *flags, str(path), user, password], check=True, timeout=30)
    return path


@pytest.fixture
def secured(tmp_path: Path, protocol: str) -> Mosquitto:
    directory = tmp_path / "secured"
    directory.mkdir()
    acl = directory / "acl"
    shutil.copy(ACL, acl)
    broker = Mosquitto(
        directory,
        lines=[
            "allow_anonymous false",
            f"password_file {password_file(directory / 'passwd')}",
            f"acl_file {acl}",
        ],
        protocol=protocol,
    )
    broker.start()
    yield broker
    broker.kill()


def central(broker: Mosquitto, contract, user: str = "central", **kw) -> Central:
    return Central(
        broker.port,
        contract=contract,
        username=user,
        password=PASSWORDS[user],
        v5=broker.v5,
        **kw,
    )


async def test_a_locker_works_on_its_own_topics_with_its_credentials(
    secured, db_path: Path, contract
) -> None:
    locker = await Locker.start(db_path)
    ops = central(secured, contract)
    await ops.connect()
    await ops.subscribe("lockers/v1/#")
    config = bridge_config(
        secured.port, secured.protocol, username=f"{SITE}/{LOCKER}", password="l1-pw"
    )
    bridge = bridge_for(locker, config)
    async with running(bridge):
        reply = await ops.request(TOPICS, "ping", locker.payload())
        assert reply["reply"]["result"] == "pong"
        event = await ops.receive(lambda m: m.topic == TOPICS.events)
        await ops.publish(TOPICS.events_ack, {"boot_id": event.json()["boot_id"], "seq": 1})
        await _until(lambda: bridge.statistics().events_acked == 1)
        assert (await ops.receive(lambda m: m.topic == TOPICS.status)).json()["state"] == "online"
        assert bridge.statistics().publishes_refused == 0
    await ops.close()
    await locker.close()


async def test_a_locker_cannot_publish_under_or_read_another_lockers_topics(secured) -> None:
    ops = central(secured, None)  # it receives forgeries on purpose: no contract check
    await ops.connect()
    await ops.subscribe("lockers/v1/#")
    intruder = central(secured, None, f"{SITE}/L2", client_id="locker-hall1-L2")
    await intruder.connect()
    # Its own topics are fine...
    own = await intruder.publish(L2.events, b'{"probe": 1}')
    assert not own.rc
    # ...another locker's are refused with "Not authorized", and never reach anyone.
    for topic in (TOPICS.status, TOPICS.state, TOPICS.events, TOPICS.reply, TOPICS.command("open")):
        await intruder.publish(topic, b'{"forged": true}')
    # MQTT 5 says why in the PUBACK; 3.1.1 has no reason codes: Mosquitto PUBACKs and drops.
    assert intruder.refused == (["Not authorized"] * 5 if secured.v5 else [])
    assert await ops.receive(lambda m: m.topic == L2.events)
    await asyncio.sleep(0.5)
    assert ops.unread(lambda m: b"forged" in m.payload) == []
    # It cannot read L1's commands either.
    await intruder.subscribe(TOPICS.commands, TOPICS.events_ack)
    await ops.publish(TOPICS.command("ping"), {"command_id": "secret"})
    await ops.publish(TOPICS.events_ack, {"boot_id": "0" * 32, "seq": 1})
    await asyncio.sleep(0.5)
    assert intruder.received == []
    await intruder.close()
    await ops.close()


async def test_wrong_credentials_are_refused_and_the_bridge_keeps_trying(
    secured, db_path: Path, contract
) -> None:
    with pytest.raises(ConnectionRefusedError):
        await Central(secured.port, username="central", password="wrong", v5=secured.v5).connect()
    with pytest.raises(ConnectionRefusedError):
        await Central(secured.port, v5=secured.v5).connect()  # anonymous
    locker = await Locker.start(db_path)
    bridge = bridge_for(
        locker,
        bridge_config(secured.port, secured.protocol, username=f"{SITE}/{LOCKER}", password="nope"),
    )
    seen = len(secured.log())
    async with running(bridge, connected=False) as task:
        await _until(lambda: bridge.statistics().connect_failures >= 2, WAIT_S)
        assert not task.done()
        stats = bridge.statistics()
    assert not stats.connected and stats.disconnects == 0
    # One failed attempt per connection the broker refused (paho also reports the end of
    # a refused connection as a disconnect: not counted again); the last may be under way.
    attempts = secured.log()[seen:].count("New connection from")
    assert attempts - 1 <= stats.connect_failures <= attempts, (attempts, stats)
    await locker.close()


@needs_openssl
async def test_mutual_tls_with_the_certificate_as_identity(
    tmp_path: Path, db_path: Path, contract, protocol: str
) -> None:
    pki = make_pki(tmp_path / "pki", clients={"locker": f"{SITE}/{LOCKER}", "ops": "central"})
    rogue = make_pki(tmp_path / "rogue", clients={"locker": f"{SITE}/{LOCKER}"}, authority="rogue")
    directory = tmp_path / "tls-broker"
    directory.mkdir()
    shutil.copy(ACL, directory / "acl")
    broker = Mosquitto(
        directory,
        lines=[
            f"cafile {pki.ca}",
            f"certfile {pki.cert('broker')}",
            f"keyfile {pki.key('broker')}",
            "require_certificate true",
            "use_identity_as_username true",
            "allow_anonymous false",
            f"acl_file {directory / 'acl'}",
        ],
        protocol=protocol,
    )
    broker.start()
    try:
        locker = await Locker.start(db_path)
        ops_tls = TlsFiles(pki.ca, pki.cert("ops"), pki.key("ops"))
        ops = Central(broker.port, contract=contract, tls=ops_tls, v5=broker.v5)
        await ops.connect()
        await ops.subscribe("lockers/v1/#")
        config = bridge_config(
            broker.port,
            broker.protocol,
            tls=TlsFiles(pki.ca, pki.cert("locker"), pki.key("locker")),
        )
        bridge = bridge_for(locker, config)
        async with running(bridge):
            reply = await ops.request(TOPICS, "ping", locker.payload())
            assert reply["reply"]["result"] == "pong"
        await ops.close()
        # A certificate from another authority, or none, is not let in.
        stranger = TlsFiles(pki.ca, rogue.cert("locker"), rogue.key("locker"))
        for tls in (stranger, TlsFiles(pki.ca)):
            with pytest.raises((ConnectionError, OSError, TimeoutError)):
                await Central(broker.port, tls=tls, v5=broker.v5).connect(timeout=3)
        await locker.close()
    finally:
        broker.kill()


def sample_configuration(directory: Path, pki: Pki, port: int) -> str:
    """deploy/mosquitto/mosquitto.conf with its paths pointed at a scratch directory and
    its one (TLS) listener on ``port`` of the loopback interface."""
    text = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    replacements = {
        "/etc/mosquitto/lockers.passwd": str(password_file(directory / "passwd")),
        "/etc/mosquitto/lockers.acl": str(ACL),
        "/etc/mosquitto/certs/ca.crt": str(pki.ca),
        "/etc/mosquitto/certs/broker.crt": str(pki.cert("broker")),
        "/etc/mosquitto/certs/broker.key": str(pki.key("broker")),
        "/var/lib/mosquitto/": f"{directory}/",
        "listener 8883": f"listener {port} 127.0.0.1",
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_the_sample_broker_configuration_is_accepted_by_mosquitto(tmp_path: Path) -> None:
    if OPENSSL is None:
        pytest.skip("needs the openssl command to make the certificates it names")
    pki = make_pki(tmp_path / "pki", clients={})
    text = sample_configuration(tmp_path, pki, free_port())
    broker = Mosquitto(tmp_path / "sample", lines=text.splitlines())
    broker.start()  # fails with mosquitto's own message on a bad line
    broker.kill()


def test_add_locker_writes_a_password_and_refuses_bad_ids(tmp_path: Path) -> None:
    script = ROOT / "deploy" / "mosquitto" / "add-locker"
    passwd = tmp_path / "passwd"
    out = subprocess.run(
        [str(script), str(passwd), "hall9", "L3"], check=True, capture_output=True, text=True
    ).stdout
    assert "username: hall9/L3" in out
    assert passwd.read_text().startswith("hall9/L3:")
    bad = subprocess.run(
        [str(script), str(passwd), "hall9", "L/3"], check=False, capture_output=True
    )
    assert bad.returncode == 2


def test_config_refuses_half_credentials() -> None:
    with pytest.raises(BridgeConfigError):
        BridgeConfig(site=SITE, locker=LOCKER, username="x")
    with pytest.raises(BridgeConfigError):
        BridgeConfig(site="a/b", locker=LOCKER)


def test_config_refuses_an_unknown_protocol_and_a_broker_without_a_port() -> None:
    with pytest.raises(BridgeConfigError, match=re.escape("protocol must be one of 5, 3.1.1")):
        BridgeConfig(site=SITE, locker=LOCKER, protocol="3")  # type: ignore[arg-type]
    with pytest.raises(BridgeConfigError, match="failover: b:0 is not a host and port"):
        BridgeConfig(site=SITE, locker=LOCKER, failover=(Broker("b", 0),))
    with pytest.raises(BridgeConfigError, match="takeover_backoff_s must be positive"):
        BridgeConfig(site=SITE, locker=LOCKER, takeover_backoff_s=0)
