"""Identifiers of the domain, as ``NewType``s so that mypy keeps them apart.

They are all plain ``str`` or ``int`` at run time, which keeps the JSON form of the
state obvious.
"""

from __future__ import annotations

from typing import NewType

CompartmentId = NewType("CompartmentId", str)
"""``A07``: column letter, row number from the top (DESIGN.md section 3)."""

ItemId = NewType("ItemId", str)
"""A certificate's application number, or the receipt number of a dossier."""

ApplicationNumber = NewType("ApplicationNumber", str)
ReceiptNumber = NewType("ReceiptNumber", str)
DepartmentId = NewType("DepartmentId", str)
StaffId = NewType("StaffId", str)
OpenId = NewType("OpenId", str)

OwnerKey = NewType("OwnerKey", str)
"""Hex HMAC-SHA256 of a normalised ID number; never the number itself."""

BusId = NewType("BusId", str)
PowerSupplyId = NewType("PowerSupplyId", str)
BoardAddress = NewType("BoardAddress", int)
