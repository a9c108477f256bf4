"""The commands the bridge answers itself: ``ping``, ``republish``, ``replay``.

They carry the same envelope as the application's commands (``command_id``,
``expires_at``, optional ``operator``), read and judged stale by the port
(``LockerPort.read_envelope``, ``expired``) so that a wrong field is named and
a stale command refused exactly as the application does. None of them changes the locker, so
their de-duplication is a bounded in-memory cache: a redelivered ``replay``
within a run is answered from it; one after a restart runs again, harmlessly.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from .messages import refusal
from .port import Envelope, JsonDict, LockerPort

CONTROL_COMMANDS = frozenset({"ping", "republish", "replay"})


@dataclass(frozen=True)
class ControlRequest:
    name: str
    envelope: Envelope
    from_seq: int | None = None  # replay only


def parse_control(
    name: str, data: dict[str, object], port: LockerPort
) -> ControlRequest | JsonDict:
    """The request, or its refusal naming the field."""
    assert name in CONTROL_COMMANDS
    fields = dict(data)
    from_seq = None
    if name == "replay":
        given = fields.pop("from_seq", None)
        if not isinstance(given, int) or isinstance(given, bool) or given < 1:
            return refusal("invalid", "required, an integer of at least 1", field="from_seq")
        from_seq = given
    envelope = port.read_envelope(fields)
    if isinstance(envelope, dict):
        return envelope
    return ControlRequest(name, envelope, from_seq)


class ReplyCache:
    """command_id -> reply, the oldest forgotten first."""

    def __init__(self, capacity: int = 1_024) -> None:
        self._capacity = capacity
        self._replies: OrderedDict[str, JsonDict] = OrderedDict()

    def get(self, command_id: str) -> JsonDict | None:
        return self._replies.get(command_id)

    def put(self, command_id: str, reply: JsonDict) -> None:
        self._replies[command_id] = reply
        self._replies.move_to_end(command_id)
        while len(self._replies) > self._capacity:
            self._replies.popitem(last=False)
