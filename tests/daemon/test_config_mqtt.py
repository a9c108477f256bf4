"""`[mqtt]` and the secrets file's `[mqtt]` table: defaults, every error with its key,
and the bridge's settings built from both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from locker_host.daemon import ConfigError, parse_config
from locker_host.daemon.config.mqtt import MqttSecrets, bridge_config, parse_mqtt_secrets
from locker_host.daemon.runtime import link_config

BASE = Path("/etc/lockerd")
KEY = "ab" * 16


def test_without_mqtt_there_is_no_link(valid: dict[str, Any]) -> None:
    assert parse_config(valid, BASE).mqtt is None


def test_an_empty_mqtt_table_takes_the_bridges_defaults(valid: dict[str, Any]) -> None:
    valid["mqtt"] = {}
    setting = parse_config(valid, BASE).mqtt
    assert setting is not None
    bridge = bridge_config(setting, MqttSecrets(), site="hh", locker="L1")
    assert (bridge.host, bridge.port, bridge.tls, bridge.username) == (
        "127.0.0.1",
        1883,
        None,
        None,
    )
    assert bridge.mqtt_client_id == "locker-hh-L1" and bridge.session_expiry_s == 3_600
    assert bridge.signed_commands == frozenset({"open"}) and not bridge.command_keys
    assert (bridge.protocol, bridge.failover, bridge.takeover_backoff_s) == ("5", (), 300)


def test_a_list_of_brokers_and_mqtt_311(valid: dict[str, Any]) -> None:
    valid["mqtt"] = {
        "brokers": ["node-1.hall:1883", "10.0.0.7:1884", "[fd00::7]:1883"],
        "protocol": "3.1.1",
        "takeover_backoff_s": 600,
    }
    setting = parse_config(valid, BASE).mqtt
    assert setting is not None
    bridge = bridge_config(setting, MqttSecrets(), site="hh", locker="L1")
    assert [str(b) for b in bridge.brokers] == [
        "node-1.hall:1883",
        "10.0.0.7:1884",
        "[fd00::7]:1883",
    ]
    assert (bridge.host, bridge.port) == ("node-1.hall", 1883)
    assert (bridge.protocol, bridge.mqtt5, bridge.takeover_backoff_s) == ("3.1.1", False, 600)


def test_every_setting_reaches_the_bridge(valid: dict[str, Any], tmp_path: Path) -> None:
    for name in ("ca.pem", "me.pem", "me.key"):
        (tmp_path / name).write_text("x")
    valid["mqtt"] = {
        "host": "broker.hall",
        "port": 8883,
        "client_id": "locker-7",
        "username": "locker-hh-L1",
        "tls": {"ca_file": "ca.pem", "cert_file": "me.pem", "key_file": "me.key"},
        "keepalive_s": 20,
        "session_expiry_s": 7_200,
        "reconnect_min_s": 2,
        "reconnect_max_s": 30,
        "resend_unacked_after_s": 0,
        "resend_window": 25,
        "events_ahead_of_ack": 500,
        "max_command_bytes": 4_096,
        "signed_commands": ["open", "set_service"],
        "outbox_alarm_pending": 50,
        "outbox_alarm_age_s": 600,
        "topic_prefix": "city/lockers/v1",
    }
    setting = parse_config(valid, tmp_path).mqtt
    assert setting is not None
    secrets = parse_mqtt_secrets({"password": "pw", "command_keys": {"central-1": KEY}})
    bridge = bridge_config(setting, secrets, site="hh", locker="L1")
    assert bridge.tls is not None and bridge.tls.key_file == tmp_path / "me.key"
    assert (bridge.host, bridge.port, bridge.mqtt_client_id) == ("broker.hall", 8883, "locker-7")
    assert (bridge.username, bridge.password) == ("locker-hh-L1", "pw")
    assert bridge.resend_unacked_after_s is None  # 0: only after a reconnect or a replay
    assert (bridge.resend_window, bridge.events_ahead_of_ack) == (25, 500)
    assert bridge.signed_commands == frozenset({"open", "set_service"})
    assert dict(bridge.command_keys) == {"central-1": bytes.fromhex(KEY)}
    assert bridge.topic_prefix == "city/lockers/v1" and bridge.max_command_bytes == 4_096
    assert "pw" not in repr(bridge)  # the password stays out of logs


ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    ("port", {"port": 0}, "mqtt.port", "outside 1..65535"),
    ("typo", {"hots": "x"}, "mqtt.hots", "unknown key"),
    ("keepalive", {"keepalive_s": 1}, "mqtt.keepalive_s", "outside 5..3600"),
    ("resend window", {"resend_window": 0}, "mqtt.resend_window", "outside 1..100000"),
    ("session", {"session_expiry_s": 0}, "mqtt.session_expiry_s", "outside 1.."),
    ("backoff", {"reconnect_min_s": 10, "reconnect_max_s": 5}, "mqtt.reconnect_max_s", "outside"),
    ("signed", {"signed_commands": ["opne"]}, "mqtt.signed_commands[0]", "not a command"),
    ("prefix", {"topic_prefix": "a/#"}, "mqtt.topic_prefix", "does not match"),
    ("client id", {"client_id": "a b"}, "mqtt.client_id", "does not match"),
    ("tls ca", {"tls": {}}, "mqtt.tls.ca_file", "missing"),
    ("tls pair", {"tls": {"ca_file": "ca", "cert_file": "c"}}, "mqtt.tls.key_file", "together"),
    ("tls typo", {"tls": {"ca_file": "ca", "cafile": "c"}}, "mqtt.tls.cafile", "unknown key"),
    ("a string", {"host": 1}, "mqtt.host", "must be a string"),
    ("protocol", {"protocol": "3"}, "mqtt.protocol", "'3' is not one of 5, 3.1.1"),
    ("protocol type", {"protocol": 5}, "mqtt.protocol", "must be a string"),
    (
        "3.1.1 expiry",
        {"protocol": "3.1.1", "session_expiry_s": 60},
        "mqtt.session_expiry_s",
        "MQTT 3.1.1 has no session expiry",
    ),
    ("brokers and host", {"brokers": ["a:1"], "host": "b"}, "mqtt.host", "either brokers or"),
    ("brokers and port", {"brokers": ["a:1"], "port": 2}, "mqtt.port", "either brokers or"),
    ("brokers empty", {"brokers": []}, "mqtt.brokers", "at least one broker"),
    ("brokers type", {"brokers": "a:1"}, "mqtt.brokers", "must be an array of strings"),
    ("broker no port", {"brokers": ["a:1", "b"]}, "mqtt.brokers[1]", "'b' is not host:port"),
    ("broker port", {"brokers": ["a:70000"]}, "mqtt.brokers[0]", "outside 1..65535"),
    ("broker twice", {"brokers": ["a:1", "a:1"]}, "mqtt.brokers[1]", "already listed"),
    ("broker ipv6", {"brokers": ["fd00::1:1883"]}, "mqtt.brokers[0]", "in []"),
    ("takeover", {"takeover_backoff_s": 0}, "mqtt.takeover_backoff_s", "outside 1..86400"),
]


@pytest.mark.parametrize(
    ("table", "key", "problem"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_every_error_names_its_key(
    valid: dict[str, Any], table: dict[str, Any], key: str, problem: str
) -> None:
    valid["mqtt"] = table
    with pytest.raises(ConfigError) as error:
        parse_config(valid, BASE)
    assert error.value.key == key, str(error.value)
    assert problem in error.value.problem, str(error.value)


SECRET_ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    ("short key", {"command_keys": {"c": "ab" * 8}}, "secrets:mqtt.command_keys.c", "16 bytes"),
    ("not hex", {"command_keys": {"c": "xyz"}}, "secrets:mqtt.command_keys.c", "does not match"),
    ("typo", {"passwd": "x"}, "secrets:mqtt.passwd", "unknown key"),
    ("not a table", {"command_keys": "k"}, "secrets:mqtt.command_keys", "must be a table"),
]


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [e[1:] for e in SECRET_ERRORS],
    ids=[e[0] for e in SECRET_ERRORS],
)
def test_every_secrets_error_names_its_key(table: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_mqtt_secrets(table)
    assert error.value.key == key, str(error.value)
    assert problem in error.value.problem, str(error.value)


def test_credentials_go_together(valid: dict[str, Any], tmp_path: Path) -> None:
    valid["mqtt"] = {"username": "locker-hh-L1"}
    setting = parse_config(valid, BASE).mqtt
    assert setting is not None
    with pytest.raises(ConfigError, match=r"mqtt.username: needs password"):
        bridge_config(setting, MqttSecrets(), site="hh", locker="L1")
    valid["mqtt"] = {}
    setting = parse_config(valid, BASE).mqtt
    assert setting is not None
    with pytest.raises(ConfigError, match=r"secrets:mqtt.password: a password needs"):
        bridge_config(setting, MqttSecrets(password="pw"), site="hh", locker="L1")
    valid["mqtt"] = {"tls": {"ca_file": "absent.pem"}}
    setting = parse_config(valid, tmp_path).mqtt
    assert setting is not None
    with pytest.raises(ConfigError, match=r"mqtt.tls.ca_file: no file at"):
        bridge_config(setting, MqttSecrets(), site="hh", locker="L1")


def test_the_daemon_reads_the_password_from_the_secrets_file(
    valid: dict[str, Any], tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[mqtt]\npassword = "s3cret"\ncommand_keys = { central-1 = "' + KEY + '" }\n'
    )
    secrets.chmod(0o600)
    valid["paths"]["secrets"] = str(secrets)
    valid["mqtt"] = {"username": "locker-hh-L1"}
    bridge = link_config(parse_config(valid, BASE))
    assert bridge is not None and bridge.password == "s3cret"
    assert bridge.command_keys["central-1"] == bytes.fromhex(KEY)
    secrets.chmod(0o644)
    with pytest.raises(Exception, match="chmod 600"):
        link_config(parse_config(valid, BASE))
