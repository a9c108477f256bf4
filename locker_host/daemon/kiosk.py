"""The kiosk's side of the composition root: the app's `Presentations`, wired.

`build_presentations` gives the app what the configuration decides (the drop-off
services, the sizes the layout has, the staff cards) and, for the HTTP
kiosk, a `SwipeParser` over `readers.parse_swipe`: the kiosk app's token
identifies the kiosk (`has_sam`: a strong card), and a refusal names the
field at fault. `pump` hands every reading of a card reader to the app: a
presentation, or a fault of one presentation (a card that could not be read,
one that is not valid, an unknown token: `presentations.failed`, so the
kiosk shows it); faults of the reader itself and "ready" are only logged
(health and metrics show them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from locker_host.api import Role
from locker_host.app import (
    Category,
    Keys,
    Kiosk,
    LockerService,
    Presentation,
    Presentations,
    Refusal,
    SwipeParser,
)
from locker_host.readers import (
    FaultCode,
    KioskEntry,
    ReaderFault,
    ReaderKeys,
    ReaderReady,
    Reading,
    SwipeError,
    SwipeErrorCode,
    parse_swipe,
)

from .config import DaemonConfig
from .config.http import HttpSettings
from .staff import StaffCards

logger = logging.getLogger(__name__)

# Faults of one presented ID card; the others are of a typed or scanned token.
_CARD_FAULTS = frozenset(
    {FaultCode.READ_FAILED, FaultCode.CARD_NOT_VALID, FaultCode.INVALID_ID_NUMBER}
)


def swipe_refusal(problem: SwipeError) -> Refusal:
    unknown = problem.code is SwipeErrorCode.UNKNOWN_KIOSK
    category = Category.DENIED if unknown else Category.INVALID
    return Refusal(problem.code.value, problem.message, category, problem.field)


def swipe_parser(keys: Keys, http: HttpSettings | None) -> SwipeParser:
    """Without `[http]` no kiosk app is configured, so every swipe is `unknown_kiosk`."""
    kiosks = tuple(
        KioskEntry(t.name, t.sha256, t.has_sam)
        for t in (() if http is None else http.tokens)
        if t.role in (Role.KIOSK, Role.ADMIN)
    )
    staff = keys.staff
    # Without staff keys no staff card gets as far as parse_swipe (below): the codes
    # keyring only fills the slot.
    reader_keys = ReaderKeys(keys.owner, keys.codes, staff or keys.codes)

    def parse(payload: Mapping[str, Any]) -> Presentation | Refusal:
        if staff is None and "staff_card" in payload:
            return swipe_refusal(
                SwipeError(
                    SwipeErrorCode.INVALID_FIELD, "staff_card", "no staff cards are configured here"
                )
            )
        presented = parse_swipe(payload, kiosks, reader_keys)
        return swipe_refusal(presented) if isinstance(presented, SwipeError) else presented

    return parse


def build_presentations(
    config: DaemonConfig,
    keys: Keys,
    service: LockerService,
    kiosk: Kiosk,
    staff: StaffCards,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Presentations:
    return Presentations(
        kiosk,
        service,
        staff,
        services=config.services,
        sizes=[spec.size for spec in config.locker.layout],
        parse_swipe=swipe_parser(keys, config.http),
        arm_timeout_s=config.kiosk.dropoff_arm_timeout_s,
        clock=clock,
    )


async def pump(readings: AsyncIterator[Reading], presentations: Presentations) -> None:
    async for reading in readings:
        match reading:
            case ReaderFault():
                logger.warning(
                    "reader fault",
                    extra={"reader": reading.source, "fault": reading.code.value},
                )
                if not reading.code.makes_unavailable:
                    card = reading.code in _CARD_FAULTS
                    presentations.failed(reading.code.value, card=card)
            case ReaderReady():
                logger.info("reader ready", extra={"reader": reading.source})
            case _:
                await presentations.present(reading)
