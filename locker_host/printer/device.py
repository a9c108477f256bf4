"""Writing a receipt to the printer's device file, with typed failures."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from .escpos import Receipt, encode_receipt


class PrinterError(Exception):
    code: ClassVar[str] = "printer_error"


class PrinterUnavailable(PrinterError):
    """The device cannot be opened or written (unplugged, no paper, no permission)."""

    code = "printer_unavailable"


class ReceiptPrinter:
    def __init__(self, device: Path) -> None:
        self.device = device

    def print(self, receipt: Receipt) -> int:
        """Blocking: call it off the event loop. Returns the bytes written."""
        data = encode_receipt(receipt)
        try:
            # Append: a plain file in tests keeps every receipt; a device does not care.
            with self.device.open("ab") as out:  # buffered: writes it all, flushed on close
                out.write(data)
        except OSError as problem:
            raise PrinterUnavailable(f"{self.device}: {problem.strerror or problem}") from None
        return len(data)
