"""`lockerd commission scan` and `set-address`: what answers on a bus, and moving a board.

Scan: each unit is asked for the reference board's identity block (FC04
0x0000..0x0007); a unit that answers with an exception or something else
is asked for a relay module's firmware register (FC03 0x8000). A unit that
answers garbled (a bad CRC, noise) is reported too: two boards sharing an
address answer at once and collide, which is exactly what a scan is for.
Silence is absence. One request costs one response timeout at most, so
all 247 units take a few seconds at 19200 bps. The requests go through the
bus's own serial stack (`locker_host.bus.DirectLine`), which also says what
went wrong with the port (`PortError.cause`); `port_problem` puts that in
the technician's words.

Line formats (`scan --formats`): a board that answers at none of the
configured format's units may be set to another rate or frame (a new
board at its factory setting, a relay module at 9600 8N1). Every format a
reference board can be set to (rates x frames, protocol/reference_board.py)
is tried in turn, the configured one first, with the same probe; a format
counts when a unit answers it cleanly (garbage is what a UART at another
rate reads, and a line at the wrong rate gives garbage or nothing, so a
garbled reply is not an answer). Formats are listed in the order tried, so
the configured one leads when it answers. Even parity and none differ only
in the bit after the data: on a real line a board set to 8E1 reads 8N1
bytes that follow each other at once with framing errors; a pty cannot
carry parity at all, so against the simulator both answer at the right
rate.

Set address: never onto an address that answers already. A reference board
takes the new address from the next frame on (its reply to the write still
comes from the old one) and is then asked for its identity at the new one.
A relay module keeps the new address in EEPROM and uses it after a power
cycle: the technician is told to power it off and on, then to scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from locker_host.bus import DirectLine, PortError, PortUnavailable
from protocol import BusFault, FaultKind
from protocol import reference_board as rb
from protocol import relay_module as rm
from protocol.families import REFERENCE, RELAY
from protocol.modbus import RegistersReply
from protocol.timing import SerialFormat

DEFAULT_ALLOWANCE = 0.05  # board processing + USB adapter buffering, seconds


@dataclass(frozen=True)
class Found:
    unit: int
    family: str  # reference | relay | modbus (answers, neither) | garbled
    identity: str


async def scan(line: DirectLine, units: Iterable[int], *, allowance: float) -> list[Found]:
    return [found for unit in units if (found := await probe(line, unit, allowance=allowance))]


async def probe(line: DirectLine, unit: int, *, allowance: float) -> Found | None:
    reply = await line.transact(unit, rb.identity_request(), allowance=allowance)
    if isinstance(reply, BusFault) and reply.kind is FaultKind.TIMEOUT:
        return None
    if isinstance(reply, BusFault) and reply.kind is not FaultKind.EXCEPTION_REPLY:
        return Found(
            unit, "garbled", f"{reply.kind.value}: {reply.detail} (two boards on one address?)"
        )
    identity = rb.parse_identity(reply)
    if not isinstance(identity, BusFault):
        return Found(unit, REFERENCE.name, describe(identity))
    reply = await line.transact(unit, rm.firmware_request(), allowance=allowance)
    if isinstance(reply, RegistersReply) and len(reply.registers) == 1:
        version = reply.registers[0]
        detail = f"relay module, firmware V{version // 100}.{version % 100:02d}"
        return Found(unit, RELAY.name, detail)
    return Found(unit, "modbus", "answers, but is neither a reference board nor a relay module")


def candidate_formats(configured: SerialFormat) -> list[SerialFormat]:
    """Every format a reference board can be set to, the configured one first."""
    every = [SerialFormat.parse(baud, frame) for baud in rb.BAUD_RATES for frame in rb.FRAMES]
    return [configured, *(f for f in every if f != configured)]


async def find_formats(
    open_line: Callable[[SerialFormat], DirectLine],
    formats: Iterable[SerialFormat],
    units: Sequence[int],
    *,
    allowance: float,
) -> list[tuple[SerialFormat, list[Found]]]:
    """The formats at which some of `units` answer cleanly, with what answers.
    Raises PortError when the port cannot be used."""
    answering = []
    for fmt in formats:
        with open_line(fmt) as line:
            found = await scan(line, units, allowance=allowance)
        clean = [f for f in found if f.family != "garbled"]
        if clean:
            answering.append((fmt, clean))
    return answering


def describe(identity: rb.Identity) -> str:
    major, minor = identity.firmware
    fitted = [str(c.name).lower() for c in rb.Capabilities if c in identity.capabilities]
    return (
        f"reference board model 0x{identity.model:04X} firmware {major}.{minor} "
        f"serial {identity.serial:08X}, {identity.channels} channels, "
        f"sensors: {', '.join(fitted) or 'none'}"
    )


class AddressRefused(Exception):
    code = "address_refused"


async def set_address(
    line: DirectLine, old: int, new: int, family: str, *, allowance: float
) -> str:
    """Move the board at `old` to `new`; what to tell the technician. Raises AddressRefused."""
    if old == new:
        raise AddressRefused(f"unit {old} already has that address")
    taken = await probe(line, new, allowance=allowance)
    if taken is not None:
        raise AddressRefused(f"unit {new} is taken: {taken.identity}")
    here = await probe(line, old, allowance=allowance)
    if here is None:
        raise AddressRefused(f"nothing answers at unit {old}")
    if here.family != family:
        raise AddressRefused(f"unit {old} is a {here.family} board, not {family}: {here.identity}")
    request = (
        rb.set_unit_address_request(new)
        if family == REFERENCE.name
        else rm.set_unit_address_request(new)
    )
    reply = await line.transact(old, request, allowance=allowance)
    if isinstance(reply, BusFault):
        raise AddressRefused(f"unit {old} did not take the new address: {reply.kind.value}")
    if family == RELAY.name:
        return f"unit {old} stored address {new}: power-cycle the module, then scan"
    moved = await probe(line, new, allowance=allowance)
    if moved is None or moved.family != REFERENCE.name:
        raise AddressRefused(f"unit {new} does not answer after the change; scan the bus")
    return f"unit {old} is now unit {new}: {moved.identity}"


_HINTS = {
    "busy": "the port is in use (is lockerd running? stop it first)",
    "absent": "no such device (unplugged?)",
    "denied": "permission denied (is the user in the dialout group?)",
}


def port_problem(error: PortError) -> str:
    """What the technician reads when the port cannot be used."""
    what = "cannot open" if isinstance(error, PortUnavailable) else "the port failed"
    return f"{error.path}: {what}: {_HINTS.get(error.cause) or error.detail or error.cause}"
