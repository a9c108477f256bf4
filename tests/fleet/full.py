"""Full lockers in the fleet world: ``lockerd`` itself (a subprocess) against its own
in-process simulator (``SimRig``: the boards' Modbus RTU bytes and the ID-card reader on
pseudo-terminals), on its own SQLite file, linked to the RabbitMQ cluster with
``[mqtt] protocol = "3.1.1"`` and ``brokers`` = the cluster's nodes.

Each is started the way tests/reliability starts one (``running_locker``: a commissioned
database; at the end SIGTERM, which must end it with 0, and its log and SQLite files
searched for raw ID numbers). What this module adds is what the fleet world needs: the
link's settings, the node a lockerd is connected to, and waits for an event that look
where the event is: in the lockerd's outbox until the central system acknowledges it, in
PostgreSQL after (an acknowledged event has left the outbox, and the central system
acknowledges only what it stored).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pika.exceptions

from central.commands import CommandSender
from tests.app.harness import DAY, iso
from tests.e2e.lockerd import TAX_CLERK, Lockerd, owner_key
from tests.e2e.rig import SimRig, wait_for
from tests.reliability.daemon import Run, running_locker

from .rabbit import RabbitCluster
from .runner import LINK_SETTINGS
from .world import SITE, Central

STEP_S = 20.0  # a step of a flow: a door opening, an event made
CONNECT_S = 30.0  # a lockerd's first connection to the cluster


def lockerd_settings(name: str, cluster: RabbitCluster, first: int) -> dict[str, Any]:
    """lockerd.toml for locker ``name`` of the fleet's site: the cluster's nodes as its
    ``brokers``, node ``first`` tried first (then the others, in turn)."""
    nodes = cluster.nodes[first - 1 :] + cluster.nodes[: first - 1]
    return {
        "site": SITE,
        "locker": name,
        "mqtt": {
            "protocol": "3.1.1",
            "brokers": [f"127.0.0.1:{node.mqtt_port}" for node in nodes],
            **LINK_SETTINGS,
        },
    }


@dataclass
class FullLocker:
    name: str
    run: Run
    central: Central

    @property
    def lockerd(self) -> Lockerd:
        return self.run.lockerd

    @property
    def rig(self) -> SimRig:
        return self.run.rig

    @property
    def citizen(self) -> str:
        """The ID number the citizen's card carries (a GB 11643 specimen): never print it."""
        return self.run.locker.card["alice"]

    def link(self) -> dict[str, Any]:
        """The ``mqtt`` block of ``lockerd admin health``."""
        link: dict[str, Any] = self.lockerd.admin("health")["mqtt"]
        return link

    def node(self, cluster: RabbitCluster) -> int:
        """The node this lockerd is connected to."""
        link = self.link()
        assert link["connected"], f"{self.name} is not connected: {link}"
        port = int(str(link["broker"]).rpartition(":")[2])
        return next(node.index for node in cluster.nodes if node.mqtt_port == port)

    def wait_connected_again(self, before: dict[str, Any], timeout: float) -> None:
        """Connected by a connection made since ``before`` (a ``link()`` read before the
        fault: "connected" alone could still be the connection the fault ended). A bridge
        started again counts its connections from 0: its restarts tell."""

        def again() -> bool:
            link = self.link()
            newer = link["connects"] > before["connects"] or link["restarts"] > before["restarts"]
            return bool(link["connected"] and newer)

        wait_for(again, timeout=timeout, what=f"{self.name} connected again", interval=0.2)

    def drained(self) -> bool:
        """Connected, and the central system acknowledged the whole outbox."""
        link = self.link()
        return bool(
            link["connected"]
            and link["outbox_pending"] == 0
            and link["outbox_acked_seq"] == link["outbox_head_seq"]
        )

    def wait_event(self, kind: str, timeout: float = STEP_S, **match: Any) -> dict[str, Any]:
        """The payload of this locker's event of ``kind`` with ``match`` in it, from the
        outbox or, once acknowledged, from PostgreSQL (read in that order, so an event
        acknowledged between the two reads is found in the second)."""

        def matches(payload: dict[str, Any]) -> bool:
            return all(payload.get(k) == v for k, v in match.items())

        def found() -> dict[str, Any] | None:
            for event in self.lockerd.events(kind):
                if matches(event["payload"]):
                    payload: dict[str, Any] = event["payload"]
                    return payload
            return next(filter(matches, self.central.payloads(self.name, kind)), None)

        event: dict[str, Any] = wait_for(
            found, timeout=timeout, what=f"{self.name}: event {kind} {match}", interval=0.2
        )
        return event

    # -- the people at the locker (the e2e suite's flows: tests/e2e/test_flows.py) -------

    def begin_dropoff(self) -> str:
        """The citizen chooses a service on the kiosk and swipes the ID card: the
        compartment whose door opened for the deposit."""
        armed = self.lockerd.admin("arm_dropoff", {"service": "business_licence"})
        assert armed["ok"], armed
        self.rig.swipe(self.citizen)
        compartment: str = self.wait_event("open.opened", purpose="deposit")["compartment"]
        return compartment

    def finish_dropoff(self, compartment: str) -> None:
        self.rig.put(compartment)
        self.rig.close(compartment)
        self.wait_event("dossier.deposited", compartment=compartment)

    def begin_load(self, compartment: str) -> None:
        """The tax clerk's staff card: the reserved compartment opens for the load."""
        self.rig.staff_card(TAX_CLERK)
        self.wait_event("open.opened", purpose="load", compartment=compartment)

    def finish_load(self, compartment: str, application: str) -> None:
        self.rig.put(compartment)
        self.rig.close(compartment)
        self.wait_event("certificate.loaded", application=application, compartment=compartment)

    def pickup(self, compartment: str, application: str) -> None:
        """The citizen swipes the ID card, takes the certificate and closes the door."""
        self.rig.swipe(self.citizen)
        self.wait_event("open.opened", purpose="pickup", compartment=compartment)
        self.rig.take(compartment)
        self.rig.close(compartment)
        self.wait_event("certificate.collected", application=application)

    # -- the central system's command ----------------------------------------------------

    def reservation(self) -> dict[str, Any]:
        """One certificate for the citizen, in the tax department (the drop-off is the
        market's: a clerk's card opens everything of the clerk's department), the same
        ``command_id`` every time it is sent."""
        return {
            "command_id": f"reserve-{self.name}",
            "expires_at": iso(time.time() + 3_600),
            "application": f"HH-{self.name}",
            "owner_key": owner_key(self.citizen),
            "key_version": 1,
            "size": "S",
            "department": "tax",
            "deadline": iso(time.time() + 3 * DAY),
        }


@contextlib.contextmanager
def full_locker(
    directory: Path,
    commissioned_db: Path,
    name: str,
    cluster: RabbitCluster,
    central: Central,
    *,
    first: int,
) -> Iterator[FullLocker]:
    """A SimRig and a running lockerd (``running_locker``) on the cluster, node ``first``
    tried first, with every board online and the link connected."""
    directory.mkdir(parents=True)
    settings = lockerd_settings(name, cluster, first)
    with running_locker(directory, commissioned_db, settings) as run:
        run.wait_boards_online()
        locker = FullLocker(name, run, central)
        wait_for(lambda: locker.link()["connected"], timeout=CONNECT_S, what=f"{name} connected")
        yield locker


def await_replies(sender: CommandSender, command_id: str, count: int, timeout: float) -> None:
    """Until ``count`` replies to ``command_id`` have come; a connection lost with its
    node is made again on another."""

    def arrived() -> bool:
        try:
            sender.collect(timeout_s=1.0)
        except pika.exceptions.AMQPError:
            with contextlib.suppress(pika.exceptions.AMQPError):
                sender.connect()
        return len(sender.replies.get(command_id, [])) >= count

    wait_for(arrived, timeout=timeout, what=f"{count} replies to {command_id}", interval=0.2)
