"""``python -m central``: the reference central system's events side.

  python -m central init-db  --dsn DSN
  python -m central register --dsn DSN SITE/LOCKER [SITE/LOCKER ...]
  python -m central consume  --dsn DSN (--amqp | --mqtt) HOST:PORT[,HOST:PORT...]
                             --name NAME [--statistics FILE]

``consume`` runs until SIGTERM or SIGINT; run it as several processes to share the
events (competing consumers): ``--amqp``, RabbitMQ's nodes (a quorum queue bound to
``amq.topic``: consumer.py); ``--mqtt``, an MQTT 5 broker's (a shared subscription:
mqtt_consumer.py). Give a restarted process the ``--name`` it had.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .consumer import Consumer, brokers_from, install_signal_handlers
from .mqtt_consumer import MqttConsumer
from .store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m central")
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init-db", help="create the tables")
    init.add_argument("--dsn", required=True)
    register = commands.add_parser("register", help="make lockers known")
    register.add_argument("--dsn", required=True)
    register.add_argument("lockers", nargs="+", metavar="SITE/LOCKER")
    consume = commands.add_parser("consume", help="store events and acknowledge them")
    consume.add_argument("--dsn", required=True)
    where = consume.add_mutually_exclusive_group(required=True)
    where.add_argument("--amqp", help="RabbitMQ: HOST:PORT of each node, comma-separated")
    where.add_argument(
        "--mqtt", help="an MQTT 5 broker: HOST:PORT of each broker to try, comma-separated"
    )
    consume.add_argument("--name", required=True, help="this process's name (stored_by)")
    consume.add_argument("--statistics", type=Path, help="a JSON file of counters")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    if args.command == "consume":
        kind = Consumer if args.amqp else MqttConsumer
        consumer = kind(
            brokers_from(args.amqp or args.mqtt),
            args.dsn,
            name=args.name,
            statistics_path=args.statistics,
        )
        install_signal_handlers(consumer)
        consumer.run()
        return 0
    store = Store(args.dsn, "admin")
    try:
        if args.command == "init-db":
            store.create_schema()
        else:
            for item in args.lockers:
                site, sep, locker = item.partition("/")
                if not sep or not site or not locker or "/" in locker:
                    parser.error(f"{item!r} is not SITE/LOCKER")
                store.register(site, locker)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
