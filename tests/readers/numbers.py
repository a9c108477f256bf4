"""Test ID numbers, and the check that none of them leaks.

Every raw number a reader test presents is listed in `RAW`; the autouse
fixture in conftest.py fails a test whose logs show one of them (or its
area-and-birth-date part, which the mask hides).
"""

from __future__ import annotations

RESIDENT = "11010519491231002X"  # the GB 11643 example
RESIDENT_LOWER_X = "11010519491231002x"
RESIDENT_2 = "130981199003071232"
PERMIT_HK = "810000199001011230"
PERMIT_MO = "820000198505055672"
PERMIT_TW = "830000200002290015"
FOREIGN_2023 = "911560198001010012"
FOREIGN_2017 = "CAN110090010112"
BAD_CHECK = "110105194912310021"  # RESIDENT with a wrong check character
BAD_DATE = "110105194913310027"  # month 13
BAD_AREA = "010105194912310021"

VALID = (RESIDENT, RESIDENT_2, PERMIT_HK, PERMIT_MO, PERMIT_TW, FOREIGN_2023, FOREIGN_2017)
INVALID = (BAD_CHECK, BAD_DATE, BAD_AREA)
RAW = (*VALID, RESIDENT_LOWER_X, *INVALID)


def leaked(text: str) -> list[str]:
    """The raw numbers (or their hidden middle) that appear in `text`."""
    folded = text.upper()
    found = []
    for number in RAW:
        upper = number.upper()
        if upper in folded or upper[:14] in folded:
            found.append(number)
    return found


def assert_clean(*values: object) -> None:
    """No raw number in the repr or str of anything reachable from `values`."""
    seen: set[int] = set()

    def walk(value: object) -> None:
        if id(value) in seen:
            return
        seen.add(id(value))
        for text in (repr(value), str(value)):
            assert not leaked(text), f"personal data in {type(value).__name__}: {text!r}"
        if isinstance(value, str | bytes | int | float | bool) or value is None:
            return
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
            return
        if isinstance(value, list | tuple | set | frozenset):
            for item in value:
                walk(item)
            return
        slots = getattr(type(value), "__slots__", ())
        names = list(getattr(value, "__dict__", {})) + [s for s in slots if hasattr(value, s)]
        for name in names:
            walk(getattr(value, name))
        if isinstance(value, BaseException):
            walk(value.args)

    for value in values:
        walk(value)
