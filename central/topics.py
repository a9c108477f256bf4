"""MQTT topics <-> AMQP routing keys as RabbitMQ's MQTT plugin maps them.

The plugin publishes an MQTT message into ``amq.topic`` with the topic as the routing
key, ``/`` and ``.`` swapped (RabbitMQ MQTT plugin guide, "Topic exchange"); an AMQP
message published there reaches the MQTT subscribers of the swapped-back topic.
"""

from __future__ import annotations

PREFIX = "lockers/v1"
EXCHANGE = "amq.topic"


_SWAP = str.maketrans("/.", "./")


def _swap(text: str) -> str:
    return text.translate(_SWAP)


def routing_key(topic: str) -> str:
    return _swap(topic)


def topic(key: str) -> str:
    return _swap(key)


def locker_topic(site: str, locker: str, rest: str) -> str:
    return f"{PREFIX}/{site}/{locker}/{rest}"


def binding(rest: str) -> str:
    """The binding key for one topic of every locker, e.g. ``events``."""
    return f"{routing_key(PREFIX)}.*.*.{routing_key(rest)}"


def event_topic_parts(key: str) -> tuple[str, str] | None:
    """(site, locker) of an ``events`` routing key, or None when it is not one."""
    levels = topic(key).split("/")
    if len(levels) != 5 or "/".join(levels[:2]) != PREFIX or levels[4] != "events":
        return None
    return levels[2], levels[3]
