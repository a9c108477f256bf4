"""``lockerctl``: the central system's side of the contract, for developers and testers.

    lockerctl send hall1/L1 ping
    lockerctl send hall1/L1 reserve application=APP-1 owner_key=5f1c… key_version:=1 \\
        size=M department=tax deadline=2026-06-08T18:00:00+08:00
    lockerctl send hall1/L1 open --json '{"compartment": "A01", "reason": "ticket 7731"}'
    lockerctl events hall1/L1 --ack          # tail, acknowledging as the contract says
    lockerctl events '+/+'                   # every locker on the broker
    lockerctl state hall1/L1                 # compartments and boards as tables
    lockerctl lockers                        # every locker that has a retained status
    lockerctl owner-key --secrets secrets.toml   # an ID number (stdin or prompt) -> owner_key

``field=value`` is a string; ``field:=json`` is a JSON value (``key_version:=1``,
``in_service:=false``). ``command_id`` and ``expires_at`` are filled in when
missing (``--expires-in``, default 300 s; also the MQTT 5 message expiry).
Exit status: 0 a reply with ok, 1 a refusal, 2 usage, 3 no broker or no reply.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mqtt_bridge.config import TlsFiles
from mqtt_bridge.messages import rfc3339
from mqtt_bridge.signing import sign
from mqtt_bridge.topics import DEFAULT_PREFIX, Topics, parse_locker_topic

from . import owner_key, render
from .session import Options, Session, SessionError, load_object

OK, REFUSED, USAGE, UNREACHABLE = 0, 1, 2, 3


class Usage(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.local is not None:  # needs no broker
        local: int = args.local(args)
        return local
    try:
        options = _options(args)
        with Session(options) as session:
            result: int = args.run(session, args)
            return result
    except Usage as exc:
        print(f"lockerctl: {exc}", file=sys.stderr)
        return USAGE
    except SessionError as exc:
        print(f"lockerctl: {exc}", file=sys.stderr)
        return UNREACHABLE
    except KeyboardInterrupt:
        return OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lockerctl",
        description="Talk to lockers over MQTT as the central system does.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("--host", default=os.environ.get("LOCKERCTL_HOST", "localhost"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCKERCTL_PORT", "1883")))
    parser.add_argument("--username", default=os.environ.get("LOCKERCTL_USERNAME"))
    parser.add_argument(
        "--password", default=os.environ.get("LOCKERCTL_PASSWORD"), help="or LOCKERCTL_PASSWORD"
    )
    parser.add_argument("--cafile", type=Path, help="the broker's CA: turns TLS on")
    parser.add_argument("--cert", type=Path, help="client certificate (mutual TLS)")
    parser.add_argument("--key", type=Path, help="client key (mutual TLS)")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default 10)")
    parser.add_argument(
        "--mqtt311", action="store_true", help="speak MQTT 3.1.1 (fallback replies)"
    )
    parser.set_defaults(local=None)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    send = sub.add_parser("send", help="send a command and print its reply")
    send.add_argument("locker", help="SITE/LOCKER")
    send.add_argument("name", help="the command: reserve, open, ping, ...")
    send.add_argument("fields", nargs="*", help="field=text or field:=json")
    send.add_argument("--json", help="the payload as a JSON object (or @FILE)")
    send.add_argument("--expires-in", type=float, default=300.0, help="seconds (default 300)")
    send.add_argument("--sign-key-id", help="sign the payload with this key id ...")
    send.add_argument(
        "--sign-key-file",
        type=Path,
        help="... and the shared key in this file, in hex as in the locker's command_keys",
    )
    send.set_defaults(run=_send)

    events = sub.add_parser("events", help="tail events, one line each")
    events.add_argument("locker", help="SITE/LOCKER, or +/+ for every locker")
    events.add_argument("--ack", action="store_true", help="acknowledge (only one consumer should)")
    events.add_argument("--from-seq", type=int, help="ask the locker to replay from this seq first")
    events.add_argument(
        "--count", type=int, help="stop after this many events (or --timeout s without one)"
    )
    events.add_argument("--json", action="store_true", help="print the raw JSON")
    events.set_defaults(run=_events)

    state = sub.add_parser("state", help="show a locker's state as tables")
    state.add_argument("locker", help="SITE/LOCKER")
    state.add_argument("--json", action="store_true", help="print the raw JSON")
    state.set_defaults(run=_state)

    lockers = sub.add_parser("lockers", help="list the lockers seen on the broker")
    lockers.add_argument("--wait", type=float, default=1.0, help="listen this long (default 1 s)")
    lockers.set_defaults(run=_lockers)

    owner_key.add_parser(sub)
    return parser


def _options(args: argparse.Namespace) -> Options:
    tls = None
    if args.cafile is not None:
        tls = TlsFiles(args.cafile, args.cert, args.key)
    elif args.cert is not None or args.key is not None:
        raise Usage("--cert and --key need --cafile")
    return Options(
        host=args.host,
        port=args.port,
        username=args.username,
        password=args.password,
        tls=tls,
        mqtt311=args.mqtt311,
        timeout_s=args.timeout,
    )


def _topics(args: argparse.Namespace, *, wildcard: bool = False) -> Topics:
    site, _, locker = str(args.locker).partition("/")
    if not site or not locker or "/" in locker:
        raise Usage(f"name a locker as SITE/LOCKER, not {args.locker!r}")
    if not wildcard and "+" in site + locker:
        raise Usage("this command needs one locker, not a wildcard")
    return Topics(site, locker, args.prefix)


# -- send ------------------------------------------------------------------------------


def payload_from(args: argparse.Namespace, now: float) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if args.json:
        text = Path(args.json[1:]).read_text() if args.json.startswith("@") else args.json
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise Usage(f"--json: {exc}") from None
        if not isinstance(loaded, dict):
            raise Usage("--json must be a JSON object")
        payload.update(loaded)
    for field in args.fields:
        if ":=" in field:
            name, _, raw = field.partition(":=")
            try:
                payload[name] = json.loads(raw)
            except ValueError as exc:
                raise Usage(f"{name}: {exc}") from None
        elif "=" in field:
            name, _, text = field.partition("=")
            payload[name] = text
        else:
            raise Usage(f"{field!r}: write field=text or field:=json")
    payload.setdefault("command_id", f"lockerctl-{uuid.uuid4().hex[:16]}")
    payload.setdefault("expires_at", rfc3339(now + args.expires_in))
    return payload


def _send(session: Session, args: argparse.Namespace) -> int:
    topics = _topics(args)
    payload = payload_from(args, time.time())
    topic = topics.command(args.name)
    if args.sign_key_id or args.sign_key_file:
        if not (args.sign_key_id and args.sign_key_file):
            raise Usage("--sign-key-id and --sign-key-file go together")
        payload = sign(payload, topic=topic, key_id=args.sign_key_id, key=_key(args.sign_key_file))
    reply = session.request(topics, args.name, payload, expiry_s=int(args.expires_in))
    if reply is None:
        print(f"lockerctl: no reply from {topics.root} within {args.timeout} s", file=sys.stderr)
        return UNREACHABLE
    print(json.dumps(reply, indent=2, ensure_ascii=False))
    return OK if dict(reply.get("reply") or {}).get("ok") else REFUSED


# -- events -------------------------------------------------------------------------------


def _key(path: Path) -> bytes:
    """The signing key: the bytes that the file's hex denotes, as the locker reads
    ``command_keys`` (the HMAC key is never the hex text itself)."""
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise Usage(f"--sign-key-file {path}: not a key in hex ({exc})") from None


def _events(session: Session, args: argparse.Namespace) -> int:
    topics = _topics(args, wildcard=True)
    start = args.from_seq
    if (start is not None or args.ack) and "+" in topics.root:
        raise Usage("--from-seq and --ack need one locker (acks are per locker)")
    session.subscribe(topics.events)
    if args.ack and start is None:
        # Start right after what the central side has acknowledged, never in mid-stream:
        # a cumulative ack must not cover events this tail never showed.
        pong = _control(session, topics, "ping", {})
        start = int(pong["outbox"]["acked_seq"]) + 1
    last: dict[str, dict[str, Any]] = {}  # per locker: the last event in an unbroken run
    if start is not None:
        _control(session, topics, "replay", {"from_seq": start})
        last[f"{topics.site}/{topics.locker}"] = {"seq": start - 1}
    shown = 0
    quiet_since = time.monotonic()
    while args.count is None or shown < args.count:
        message = session.receive(1.0)
        if message is None:
            if args.count is not None and time.monotonic() - quiet_since > args.timeout:
                print(f"lockerctl: {shown} of {args.count} events in time", file=sys.stderr)
                return UNREACHABLE
            continue
        quiet_since = time.monotonic()
        where = parse_locker_topic(message.topic, args.prefix)
        event = load_object(message.payload)
        if where is None or where.rest != "events" or not isinstance(event.get("seq"), int):
            continue
        name = f"{where.site}/{where.locker}"
        previous = last.get(name)
        seq = event["seq"]
        duplicate = previous is not None and seq <= previous["seq"]
        if previous is not None and seq > previous["seq"] + 1:
            print(
                f"{name}: seq {previous['seq'] + 1}..{seq - 1} missing"
                f" (lockerctl events {name} --from-seq {previous['seq'] + 1})",
                file=sys.stderr,
            )
        if args.json:
            print(json.dumps(event, ensure_ascii=False), flush=True)
        else:
            print(render.event_line(name, event, duplicate=duplicate), flush=True)
        shown += 1
        if previous is None or seq == previous["seq"] + 1:
            last[name] = event
            if args.ack:
                # Cumulative: only ever through the unbroken run, never past a gap.
                ack = {"boot_id": event["boot_id"], "seq": seq}
                session.publish(topics.events_ack, json.dumps(ack).encode())
    return OK


# -- state and lockers -----------------------------------------------------------------------


def _state(session: Session, args: argparse.Namespace) -> int:
    topics = _topics(args)
    session.subscribe(topics.state, topics.status)
    state: dict[str, Any] | None = None
    status: dict[str, Any] | None = None
    deadline = time.monotonic() + args.timeout
    while state is None or status is None:
        left = deadline - time.monotonic()
        message = session.receive(max(left, 0.0)) if left > 0 else None
        if message is None:
            break
        if message.topic == topics.state:
            state = load_object(message.payload)
        elif message.topic == topics.status:
            status = load_object(message.payload)
    if state is None:
        print(f"lockerctl: no retained state on {topics.state}", file=sys.stderr)
        return UNREACHABLE
    if args.json:
        print(json.dumps(state, indent=2, ensure_ascii=False))
    else:
        render.show(render.state_tables(state, status))
    return OK


def _lockers(session: Session, args: argparse.Namespace) -> int:
    session.subscribe(f"{args.prefix}/+/+/status")
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for message in session.drain(args.wait):
        where = parse_locker_topic(message.topic, args.prefix)
        status = load_object(message.payload)
        if where is not None and where.rest == "status" and status:
            seen[(where.site, where.locker)] = status
    render.show([render.lockers_table(list(seen.values()))])
    return OK


def _control(session: Session, topics: Topics, name: str, fields: dict[str, Any]) -> dict[str, Any]:
    payload = {
        "command_id": f"lockerctl-{uuid.uuid4().hex[:16]}",
        "expires_at": rfc3339(time.time() + 60),
        **fields,
    }
    reply = session.request(topics, name, payload, expiry_s=60)
    body = dict((reply or {}).get("reply") or {})
    if not body.get("ok"):
        raise SessionError(f"{name} was not answered with ok: {reply}")
    return body
