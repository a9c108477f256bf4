"""`lockerd demo`: seed a realistic hall through the front doors, as people would.

Nothing is written into the database directly. The central system's part
goes through the application command API on the admin socket (`reserve`
with owner keys, as the central system sends them); the clerks' part is a
staff card held to the simulator's staff-card reader (`staff_card`: it types
the number like a keyboard, lockerd's keyboard reader reads it) and doors
and items moved in the simulator (its control channel); the
citizen's drop-off is an ID card on the simulated SAM reader. Each step waits
(bounded) for what lockerd publishes in its state snapshot, so the hall the
demo prints is the hall lockerd sees:

* Alice's business licence (market) and Bob's tax certificate (tax, with a
  pickup code) wait for pickup;
* Carol's pension certificate (social) had a deadline seconds away: it is
  overdue by the time the demo prints;
* Dave has dropped off a business licence application (a dossier, market).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from locker_host.daemon.admin import call as admin_call
from simulator.client import ControlUnavailable
from simulator.client import call as sim_call

from .children import Child, DemoError, wait_for
from .hall import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    MARKET_CLERK,
    SOCIAL_CLERK,
    TAX_CLERK,
    Citizen,
    Hall,
    StaffMember,
)

CHINA = timezone(timedelta(hours=8), "CST")
STEP_TIMEOUT_S = 30.0
OVERDUE_AFTER = timedelta(seconds=8)  # Carol's deadline, from her reservation
JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Certificate:
    citizen: Citizen
    application: str
    department: str
    compartment: str
    pickup_code: str | None = None
    overdue: bool = False


@dataclass(frozen=True)
class Dossier:
    citizen: Citizen
    service: str
    department: str
    compartment: str


@dataclass(frozen=True)
class SeededHall:
    certificates: tuple[Certificate, ...]
    dossier: Dossier


class Seeder:
    def __init__(
        self,
        hall: Hall,
        sim_control: str,
        *,
        children: Sequence[Child],
        say: Callable[[str], None],
    ) -> None:
        self._hall = hall
        self._control = sim_control
        self._children = children
        self._say = say

    def seed(self) -> SeededHall:
        now = datetime.now(CHINA)
        waiting = [
            self._reserve(ALICE, "HH-2025-SL-0317", "market", "M", now + timedelta(days=5)),
            self._reserve(
                BOB, "HH-2025-TX-1042", "tax", "S", now + timedelta(days=3), code="58392017"
            ),
            self._reserve(CAROL, "HH-2025-PS-0088", "social", "S", now + OVERDUE_AFTER),
        ]
        for clerk in (MARKET_CLERK, TAX_CLERK, SOCIAL_CLERK):
            self._load(clerk, [c for c in waiting if c.department == clerk.department])
        dossier = self._deposit(DAVE, "business_licence")
        overdue = self._wait_overdue(waiting[2])
        return SeededHall((waiting[0], waiting[1], overdue), dossier)

    # -- the central system: reserve --------------------------------------------------

    def _reserve(
        self,
        citizen: Citizen,
        application: str,
        department: str,
        size: str,
        deadline: datetime,
        *,
        code: str | None = None,
    ) -> Certificate:
        payload: JsonDict = {
            "application": application,
            "owner_key": self._hall.owner_key(citizen),
            "key_version": 1,
            "size": size,
            "department": department,
            "deadline": deadline.isoformat(timespec="seconds"),
        }
        if code is not None:
            payload["pickup_code"] = code
        reply = self._command("reserve", payload)
        compartment = str(reply["compartment"])
        self._say(f"  reserved {compartment} for {application} ({department})")
        return Certificate(citizen, application, department, compartment, code)

    def _command(self, name: str, payload: JsonDict) -> JsonDict:
        expires = datetime.now(UTC) + timedelta(minutes=5)
        envelope = {
            "command_id": f"demo-{uuid.uuid4()}",
            "expires_at": expires.isoformat(timespec="seconds"),
            "operator": "central-demo",
        }
        return self._admin(name, {**envelope, **payload})

    def _admin(self, name: str, payload: JsonDict) -> JsonDict:
        reply = admin_call(self._hall.admin_socket, name, payload, timeout=10.0)
        if not reply.get("ok"):
            raise DemoError(f"lockerd refused {name}: {reply.get('error')}")
        return reply

    # -- the clerks: load certificates ------------------------------------------------

    def _load(self, clerk: StaffMember, certificates: Sequence[Certificate]) -> None:
        self._sim("staff_card", number=clerk.card)  # the clerk's card at the staff-card reader
        for certificate in certificates:
            cid = certificate.compartment
            self._wait_view(
                cid, f"{cid} to open for {clerk.staff_id}", lambda v: v["door"] == "open"
            )
            self._sim("put", compartment=cid)
            self._sim("close", compartment=cid)
            self._wait_view(cid, f"{cid} to hold the certificate", _holds("certificate", "held"))
            self._say(f"  {clerk.staff_id} loaded {cid} ({certificate.application})")

    # -- a citizen: drop off a dossier ------------------------------------------------

    def _deposit(self, citizen: Citizen, service: str) -> Dossier:
        armed = self._admin("arm_dropoff", {"service": service})
        before = {e["seq"] for e in self._events("open.opened")}
        self._sim("swipe", id_number=citizen.id_number, hold=1.0)

        def deposit_opened() -> str | None:
            for event in self._events("open.opened"):
                payload = event["payload"]
                if event["seq"] not in before and payload.get("purpose") == "deposit":
                    return str(payload["compartment"])
            return None

        cid = wait_for(
            deposit_opened,
            timeout=STEP_TIMEOUT_S,
            what="a compartment to open for the drop-off",
            children=self._children,
        )
        self._sim("put", compartment=cid)
        self._sim("close", compartment=cid)
        self._wait_view(cid, f"{cid} to hold the dossier", _holds("dossier", "held"))
        self._say(f"  {citizen.name} dropped off a dossier in {cid} ({service})")
        return Dossier(citizen, service, str(armed["department"]), cid)

    def _events(self, kind: str) -> list[JsonDict]:
        events: list[JsonDict] = self._admin("events", {"limit": 1000})["events"]
        return [e for e in events if e["type"] == kind]

    # -- time passes --------------------------------------------------------------------

    def _wait_overdue(self, certificate: Certificate) -> Certificate:
        cid = certificate.compartment
        self._wait_view(cid, f"{cid} to become overdue", _holds("certificate", "overdue"))
        self._say(f"  {cid} is overdue ({certificate.application})")
        return Certificate(
            certificate.citizen,
            certificate.application,
            certificate.department,
            cid,
            certificate.pickup_code,
            overdue=True,
        )

    # -- plumbing -----------------------------------------------------------------------

    def _view(self, cid: str) -> JsonDict:
        state = self._admin("state", {})["state"]
        view: JsonDict = next(c for c in state["compartments"] if c["compartment"] == cid)
        return view

    def _wait_view(self, cid: str, what: str, test: Callable[[JsonDict], bool]) -> None:
        wait_for(
            lambda: test(self._view(cid)),
            timeout=STEP_TIMEOUT_S,
            what=what,
            children=self._children,
        )

    def _sim(self, cmd: str, **args: object) -> None:
        try:
            reply = sim_call(self._control, {"cmd": cmd, **args}, timeout=10.0)
        except ControlUnavailable as exc:
            raise DemoError(str(exc)) from None
        if not reply.get("ok"):
            raise DemoError(f"the simulator refused {cmd}: {reply.get('error')}")


def _holds(kind: str, stage: str) -> Callable[[JsonDict], bool]:
    def test(view: JsonDict) -> bool:
        return view["door"] == "closed" and any(
            i["kind"] == kind and i["stage"] == stage for i in view["items"]
        )

    return test
