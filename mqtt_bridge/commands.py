"""Answering ``cmd/{name}`` and applying ``events/ack``, one message at a time.

Every command gets exactly one reply per delivery, on its MQTT 5 response
topic with its correlation data, or on ``reply`` when it named none. The
application's commands go to the port (``CommandApi.handle``: de-duplication
by ``command_id``, ``expired``, ``invalid`` naming the field); ``ping``,
``republish`` and ``replay`` are answered here, and a name that is neither
gets ``unknown_command`` listing both kinds. The message is PUBACKed only
after its reply was handed to paho, so a locker that dies in between gets the
command again from its session, and the app's de-duplication answers it
without a second action.
"""

from __future__ import annotations

import json
import logging

from . import control, inbound, messages
from .context import BridgeContext
from .events import EventPump
from .inbound import Inbound, Route
from .link import Link, json_properties
from .port import JsonDict
from .signing import Verifier
from .state import StatePublisher

log = logging.getLogger("mqtt_bridge.commands")


class CommandDesk:
    def __init__(
        self, context: BridgeContext, *, pump: EventPump, publisher: StatePublisher
    ) -> None:
        self._config = context.config
        self._topics = context.topics
        self._port = context.port
        self._stats = context.stats
        self._wall = context.wall
        self._software = context.software
        self._boot_id = context.boot_id
        self._pump = pump
        self._publisher = publisher
        self._verifier = Verifier(self._config.command_keys, self._config.signed_commands)
        self._control_replies = control.ReplyCache()
        # Every cmd/{name} answered: the app's commands (its one table, through the
        # port) and the bridge's own; an unknown name is refused listing them all.
        self._known = sorted({*self._port.command_names(), *control.CONTROL_COMMANDS})
        self._link: Link | None = None

    def attach(self, link: Link) -> None:
        self._link = link

    # -- commands ------------------------------------------------------------------------

    async def answer(self, message: Inbound) -> None:
        assert self._link is not None
        name = self._topics.command_name(message.topic)
        if name is None:
            self._link.ack(message)
            return
        self._stats.commands_received += 1
        max_bytes = self._config.max_command_bytes
        route, bad_route = inbound.route(name, message, self._topics, max_bytes=max_bytes)
        command_id: str | None = None
        if bad_route is not None:
            command_id = bad_route.command_id
            body = bad_route.reply
        else:
            try:
                got = inbound.read_command(
                    name, message, max_bytes=max_bytes, verifier=self._verifier
                )
            except Exception as exc:  # a bug in reading: answer, count, go on
                body = self._internal_error(name, exc)
            else:
                command_id = got.command_id
                match got:
                    case inbound.Refused():
                        body = got.reply
                    case inbound.Accepted():
                        body = await self._execute(name, got.payload)
        if not body.get("ok"):
            self._stats.commands_refused += 1
        self._reply(route, name, command_id, body)
        self._link.ack(message)

    async def _execute(self, name: str, payload: dict[str, object]) -> JsonDict:
        if name not in self._known:
            return messages.refusal(
                "unknown_command",
                f"no command named {name[:40]!r}",
                details={"known": list(self._known)},
            )
        try:
            if name in control.CONTROL_COMMANDS:
                return await self._control(name, payload)
            return await self._port.handle_command(name, payload)
        except Exception as exc:
            # The port promises replies, not exceptions (a store that cannot be read
            # is the likely one); the sender still gets an answer and the desk goes on.
            return self._internal_error(name, exc)

    def _internal_error(self, name: str, exc: Exception) -> JsonDict:
        self._stats.port_errors += 1
        self._stats.last_error = f"{name}: {exc!r}"
        log.error("command %s raised", name, exc_info=exc)
        return messages.refusal("internal_error", "the locker failed to carry out the command")

    def _reply(self, route: Route, name: str, command_id: str | None, body: JsonDict) -> None:
        assert self._link is not None
        message = messages.reply(self._topics, name, command_id, body, at=self._wall())
        properties = json_properties(MessageExpiryInterval=self._config.reply_expiry_s)
        if route.correlation_data is not None:
            properties.CorrelationData = route.correlation_data
        self._link.publish(route.topic, messages.encode(message), properties=properties)
        self._stats.replies_published += 1

    # -- ping, republish, replay -----------------------------------------------------------

    async def _control(self, name: str, payload: dict[str, object]) -> JsonDict:
        request = control.parse_control(name, payload, self._port)
        if isinstance(request, dict):
            return request
        command_id = request.envelope.command_id
        stored = self._control_replies.get(command_id)
        if stored is not None:
            return stored
        body = self._port.expired(request.envelope.expires_at_wall_s)
        if body is None:
            match request.name:
                case "ping":
                    body = await self._pong()
                case "republish":
                    self._publisher.republish()
                    body = {"ok": True, "result": "republished"}
                case "replay":
                    assert request.from_seq is not None
                    body = await self._replay(request.from_seq)
        assert body is not None
        self._control_replies.put(command_id, body)
        return body

    async def _pong(self) -> JsonDict:
        stats = await self._port.outbox_stats()
        oldest = stats.oldest_pending_at
        return {
            "ok": True,
            "result": "pong",
            "boot_id": self._boot_id,
            "software": self._software,
            "outbox": {
                "head_seq": stats.head_seq,
                "acked_seq": stats.acked_seq,
                "pending": stats.pending,
                "oldest_pending_at": None if oldest is None else messages.rfc3339(oldest),
                "dropped_total": stats.dropped_total,
            },
        }

    async def _replay(self, from_seq: int) -> JsonDict:
        stats = await self._port.outbox_stats()
        if from_seq > stats.head_seq + 1:
            return messages.refusal(
                "invalid",
                f"beyond the last event written (seq {stats.head_seq})",
                field="from_seq",
            )
        oldest = stats.head_seq - stats.pending + 1 if stats.pending else None
        first = None if oldest is None else max(from_seq, oldest)
        if first is not None and first > stats.head_seq:
            first = None
        self._pump.restart_pass(from_seq, asked=True)
        # Events below the oldest pending one were acknowledged (or dropped by the
        # retention bound, see dropped_total): they are gone and cannot be replayed.
        return {
            "ok": True,
            "result": "replaying",
            "from_seq": from_seq,
            "first_seq": first,
            "head_seq": stats.head_seq,
        }

    # -- events/ack ------------------------------------------------------------------------

    async def apply_ack(self, message: Inbound) -> None:
        assert self._link is not None
        ack = _parse_ack(message.payload)
        if isinstance(ack, str):
            self._stats.acks_refused += 1
            log.warning("events/ack refused: %s", ack)
        else:
            boot_id, seq = ack
            try:
                removed = await self._port.ack_events(boot_id=boot_id, seq=seq)
            except Exception as exc:
                self._stats.acks_refused += 1
                code = getattr(exc, "code", type(exc).__name__)
                log.warning("events/ack for seq %d refused: %s (%s)", seq, code, exc)
            else:
                self._stats.events_acked += removed
                self._pump.acked(seq)
        self._link.ack(message)


def _parse_ack(payload: bytes) -> tuple[str, int] | str:
    """(boot_id, seq), or why the ack cannot be read."""
    try:
        data = json.loads(payload.decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "not UTF-8 JSON"
    if not isinstance(data, dict) or set(data) != {"boot_id", "seq"}:
        return "must be an object with exactly boot_id and seq"
    boot_id, seq = data["boot_id"], data["seq"]
    if not isinstance(boot_id, str) or not boot_id:
        return "boot_id must be a string"
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return "seq must be an integer of at least 1"
    return boot_id, seq
