"""Refusals of the domain: one exception tree, each leaf with a stable ``code``.

Only *commands from people* (a citizen at the kiosk, a clerk, the central
system) are refused. Observations from sensors are facts and never raise: an
unexpected one becomes an alarm event or a fault state instead.

The app layer maps ``code`` to an HTTP status or an MQTT reply; the domain never
mentions either. ``fields`` carries the machine-readable details of a refusal and
never an ID number::

    LockerError                      code
    ├── InvalidInput                 (the command itself is malformed)
    │   ├── InvalidIdNumber          invalid_id_number
    │   ├── InvalidPickupCode        invalid_pickup_code
    │   ├── PickupCodeTooShort       pickup_code_too_short
    │   ├── ReasonRequired           reason_required
    │   ├── InvalidDeadline          invalid_deadline
    │   └── MissingChoice            missing_choice
    ├── Denied                       (who asks may not do this)
    │   ├── NotAuthorised            not_authorised
    │   ├── NothingForYou            nothing_for_you
    │   ├── PickupCodeRequired       pickup_code_required
    │   ├── WrongCode                wrong_code
    │   ├── CodeLockedOut            code_locked_out
    │   └── CommandExpired           expired  (also the app's, for a stale central command)
    └── Conflict                     (the locker's state does not allow it now)
        ├── UnknownCompartment       unknown_compartment
        ├── UnknownApplication       unknown_application
        ├── UnknownOpen              unknown_open
        ├── DuplicateApplication     duplicate_application
        ├── NoCompartmentAvailable   no_compartment_available
        ├── BoardsNotReady           boards_not_ready
        ├── CompartmentBusy          compartment_busy
        ├── CompartmentUnavailable   compartment_unavailable
        ├── CompartmentNotEmpty      compartment_not_empty
        ├── ClockUntrusted           clock_untrusted
        └── InvalidTransition        invalid_transition

``decide`` does not raise these: it returns them in ``Decision.refusal`` together
with the audit record of the denial, because a denied attempt must be audited
and may change state (a wrong pickup code counts towards a lockout). Helper
functions such as ``validate_id_number`` raise them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

Field = str | int | float | bool | None


class LockerError(Exception):
    code: ClassVar[str] = "locker_error"

    def __init__(self, message: str, **fields: Field) -> None:
        super().__init__(message)
        self.message = message
        self.fields: Mapping[str, Field] = dict(fields)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "fields": dict(self.fields)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidInput(LockerError):
    code = "invalid_input"


class InvalidIdNumber(InvalidInput):
    code = "invalid_id_number"


class InvalidPickupCode(InvalidInput):
    code = "invalid_pickup_code"


class PickupCodeTooShort(InvalidInput):
    code = "pickup_code_too_short"


class ReasonRequired(InvalidInput):
    code = "reason_required"


class InvalidDeadline(InvalidInput):
    code = "invalid_deadline"


class MissingChoice(InvalidInput):
    """A drop-off by card needs the service (department) and the size."""

    code = "missing_choice"


class Denied(LockerError):
    code = "denied"


class NotAuthorised(Denied):
    code = "not_authorised"


class NothingForYou(Denied):
    code = "nothing_for_you"


class PickupCodeRequired(Denied):
    code = "pickup_code_required"


class WrongCode(Denied):
    """A pickup or drop-off code that matches nothing (counts towards a lockout)."""

    code = "wrong_code"


class CodeLockedOut(Denied):
    code = "code_locked_out"


class CommandExpired(Denied):
    """``expires_at`` has passed on a trusted clock: the command is answered, never executed."""

    code = "expired"


class Conflict(LockerError):
    code = "conflict"


class UnknownCompartment(Conflict):
    code = "unknown_compartment"


class UnknownAlarm(Conflict):
    code = "unknown_alarm"  # no such alarm now (it may have cleared)


class UnknownApplication(Conflict):
    code = "unknown_application"


class UnknownOpen(Conflict):
    code = "unknown_open"


class DuplicateApplication(Conflict):
    code = "duplicate_application"


class NoCompartmentAvailable(Conflict):
    code = "no_compartment_available"


class BoardsNotReady(Conflict):
    """No compartment that nobody has seen yet: right after start, before every
    board was read once, the free ones may lie only on boards not read yet."""

    code = "boards_not_ready"


class CompartmentBusy(Conflict):
    code = "compartment_busy"


class CompartmentUnavailable(Conflict):
    code = "compartment_unavailable"


class CompartmentNotEmpty(Conflict):
    code = "compartment_not_empty"


class ClockUntrusted(Conflict):
    code = "clock_untrusted"


class InvalidTransition(Conflict):
    code = "invalid_transition"
