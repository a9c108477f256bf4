"""The topic tree of one locker (docs/asyncapi, DESIGN.md section 5).

::

    lockers/v1/{site}/{locker}/status                     retained  online / offline (the Will)
    lockers/v1/{site}/{locker}/state                      retained  the snapshot, no personal data
    lockers/v1/{site}/{locker}/board/{bus}/{addr}/status  retained  one lock board
    lockers/v1/{site}/{locker}/events                     QoS 1     the outbox, in seq order
    lockers/v1/{site}/{locker}/events/ack                 in        cumulative ack from the centre
    lockers/v1/{site}/{locker}/cmd/{name}                 in        commands
    lockers/v1/{site}/{locker}/reply                      out       replies without a response topic
    lockers/v1/{site}/{locker}/reply/{anything}           out       MQTT 5 response topics

Everything a locker publishes lies under its own root, so that one ACL pattern
per direction confines it (deploy/mosquitto/acl). That is why a response topic
outside ``reply/`` is refused rather than obeyed.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "lockers/v1"
_FORBIDDEN = set("/+#\x00")


def check_level(value: str) -> str | None:
    """Why ``value`` cannot be one topic level, or None (MQTT 5 section 4.7)."""
    if not value:
        return "must not be empty"
    if len(value) > 64:
        return "at most 64 characters"
    if _FORBIDDEN & set(value):
        return "must not contain '/', '+', '#' or NUL"
    return None


@dataclass(frozen=True)
class Topics:
    site: str
    locker: str
    prefix: str = DEFAULT_PREFIX

    @property
    def root(self) -> str:
        return f"{self.prefix}/{self.site}/{self.locker}"

    @property
    def status(self) -> str:
        return f"{self.root}/status"

    @property
    def state(self) -> str:
        return f"{self.root}/state"

    @property
    def events(self) -> str:
        return f"{self.root}/events"

    @property
    def events_ack(self) -> str:
        return f"{self.root}/events/ack"

    @property
    def commands(self) -> str:
        """The subscription filter for every command."""
        return f"{self.root}/cmd/+"

    @property
    def reply(self) -> str:
        """Where replies go when the command named no response topic (MQTT 3.1.1)."""
        return f"{self.root}/reply"

    @property
    def boards(self) -> str:
        return f"{self.root}/board/+/+/status"

    def command(self, name: str) -> str:
        return f"{self.root}/cmd/{name}"

    def board_status(self, board_key: str) -> str:
        """``bus0/3`` -> ``.../board/bus0/3/status``."""
        levels = board_key.split("/")
        if len(levels) != 2 or any(check_level(level) for level in levels):
            raise ValueError(f"board key {board_key!r} is not 'bus/address'")
        return f"{self.root}/board/{board_key}/status"

    def command_name(self, topic: str) -> str | None:
        """The command a topic addresses, or None when it is not one of ours."""
        head = f"{self.root}/cmd/"
        if not topic.startswith(head):
            return None
        name = topic[len(head) :]
        return None if check_level(name) else name

    def accepts_response_topic(self, topic: str) -> bool:
        return (
            topic.startswith(f"{self.root}/reply/")
            and len(topic) > len(self.root) + len("/reply/")
            and not set("+#\x00") & set(topic)
        )


@dataclass(frozen=True)
class LockerTopic:
    """A topic of some locker, as seen by a central client subscribed with wildcards."""

    site: str
    locker: str
    rest: str  # after the root, e.g. "status" or "board/bus0/1/status"


def parse_locker_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> LockerTopic | None:
    if not topic.startswith(prefix + "/"):
        return None
    parts = topic[len(prefix) + 1 :].split("/", 2)
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    return LockerTopic(parts[0], parts[1], parts[2])
