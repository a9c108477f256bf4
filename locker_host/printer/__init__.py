"""The receipt printer: an ESC/POS thermal printer behind a device file.

An adapter like the others (it imports only ``locker_host.domain`` values, if
any, and no other adapter). ``encode_receipt`` is pure (a ``Receipt`` in,
ESC/POS bytes out); ``ReceiptPrinter`` writes them to the device
(``/dev/usb/lp0``, a serial port, or a plain file in tests) and turns an OS
failure into ``PrinterUnavailable``: a printer out of paper or unplugged
never stops a drop-off, it is logged and the kiosk still shows the number.
"""

from .device import PrinterError, PrinterUnavailable, ReceiptPrinter
from .escpos import Receipt, encode_receipt

__all__ = ["PrinterError", "PrinterUnavailable", "Receipt", "ReceiptPrinter", "encode_receipt"]
