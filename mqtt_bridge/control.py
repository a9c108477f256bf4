"""The commands the bridge answers itself: ``ping``, ``republish``, ``replay``.

They carry the same envelope as the application's commands (``command_id``,
``expires_at``, optional ``operator``), parsed by the app's own ``Payload`` so
that a wrong field is named the same way. None of them changes the locker, so
their de-duplication is a bounded in-memory cache: a redelivered ``replay``
within a run is answered from it; one after a restart runs again, harmlessly.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from locker_host.app import CommandExpired, InvalidPayload
from locker_host.app.payload import Payload
from locker_host.app.replies import refused

from .port import JsonDict

CONTROL_COMMANDS = frozenset({"ping", "republish", "replay"})


@dataclass(frozen=True)
class ControlRequest:
    name: str
    command_id: str
    expires_at_wall_s: float
    from_seq: int | None = None  # replay only


def parse_control(name: str, data: object) -> ControlRequest:
    """Raise ``InvalidPayload`` naming the field."""
    assert name in CONTROL_COMMANDS
    if not isinstance(data, dict):
        raise InvalidPayload("the payload must be a JSON object")
    fields = dict(data)
    from_seq = None
    if name == "replay":
        from_seq = fields.pop("from_seq", None)
        if not isinstance(from_seq, int) or isinstance(from_seq, bool) or from_seq < 1:
            raise InvalidPayload("required, an integer of at least 1", field="from_seq")
    p = Payload(fields)
    command_id = p.text("command_id")
    expires_at = p.time("expires_at")
    p.optional_text("operator")
    p.finish()
    return ControlRequest(name, command_id, expires_at, from_seq)


def expired(request: ControlRequest, now_wall_s: float) -> JsonDict | None:
    if now_wall_s <= request.expires_at_wall_s:
        return None
    return refused(
        CommandExpired(
            "the command expired before it could be carried out",
            expires_at_wall_s=request.expires_at_wall_s,
        )
    )


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
