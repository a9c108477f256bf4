"""Printing the drop-off receipt when a dossier is deposited (`[kiosk] receipt_printer`).

The service tells its listeners *that* something was committed, not what;
this reads the snapshot after each commit and prints every dossier receipt
it has not seen before. The receipts present at start-up count as seen, so a
restart never prints a receipt twice. Printing runs in a worker thread (a
device write may block), one receipt at a time; a printer failure is logged
and changes nothing else: the kiosk shows the number on screen anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from locker_host.app import LockerService
from locker_host.printer import PrinterError, Receipt, ReceiptPrinter

logger = logging.getLogger(__name__)


def dossiers(snapshot: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """receipt -> (compartment, department) of every dossier in the snapshot."""
    found = {}
    for compartment in snapshot["compartments"]:
        for item in compartment["items"]:
            if item["kind"] == "dossier":
                found[item["item"]] = (compartment["compartment"], item["department"])
    return found


class ReceiptWatcher:
    def __init__(
        self,
        service: LockerService,
        printer: ReceiptPrinter,
        department_labels: Mapping[str, str],
    ) -> None:
        self._service = service
        self._printer = printer
        self._labels = department_labels
        self._changed = asyncio.Event()
        self._seen: set[str] = set()

    async def run(self) -> None:
        self._seen = set(dossiers(await self._service.snapshot()))
        remove = self._service.add_listener(self._changed.set)
        try:
            while True:
                await self._changed.wait()
                self._changed.clear()
                snapshot = await self._service.snapshot()
                found = dossiers(snapshot)
                fresh = [(r, *found[r]) for r in sorted(set(found) - self._seen)]
                self._seen |= set(found)
                await self._print(snapshot, fresh)
        finally:
            remove()

    async def _print(
        self, snapshot: Mapping[str, Any], fresh: Iterable[tuple[str, str, str]]
    ) -> None:
        for receipt, compartment, department in fresh:
            ticket = Receipt(
                receipt,
                compartment,
                self._labels.get(department, department),
                snapshot["site"],
                snapshot["locker"],
                datetime.now().astimezone(),
            )
            try:
                await asyncio.to_thread(self._printer.print, ticket)
            except PrinterError as problem:
                logger.warning(
                    "receipt not printed",
                    extra={"receipt": receipt, "error": problem.code, "detail": str(problem)},
                )
            else:
                logger.info(
                    "receipt printed", extra={"receipt": receipt, "compartment": compartment}
                )
