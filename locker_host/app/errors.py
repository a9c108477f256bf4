"""The app layer's own refusals and failures, each with a stable ``code``.

The domain refuses commands with ``LockerError`` (``locker_host.domain``); the
store fails with ``StoreError`` (``locker_host.store``). What is left is what
only the app can tell: a payload that does not parse, a stale or unknown
command, a staff card nobody knows, a layout change that would orphan items,
a secrets file that cannot be trusted, stored state that cannot be read::

    AppError                        code                    category
    ├── InvalidPayload              invalid                 invalid (names the ``field``)
    ├── UnknownCommand              unknown_command         invalid
    ├── UnknownCard                 unknown_card            denied
    ├── NotCommissioned             not_commissioned        conflict
    ├── LayoutOrphansItems          layout_orphans_items    conflict
    ├── StoredStateInvalid          stored_state_invalid    internal
    └── SecretsError                secrets_error           unavailable
        ├── SecretsMissing          secrets_missing         unavailable
        ├── SecretsInsecure         secrets_insecure        unavailable
        └── SecretsMalformed        secrets_malformed       unavailable

A command that expired before it could be carried out is the domain's
``CommandExpired`` (code ``expired``, denied), whoever finds it stale.

Every error has a ``Category``: why it was refused, which is all an edge needs
to know to answer (an HTTP status follows from it, ``api/errors.py``). The
domain's families are categories already (invalid input, denied, conflict);
the store's failures are ``unavailable`` (``replies.category_of``).

Messages never quote the offending value: it may be an ID number or a code.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import ClassVar


class Category(StrEnum):
    """Why a request was refused; what an edge makes of it (an HTTP status, ...)."""

    INVALID = "invalid"  # the request itself is malformed
    UNAUTHENTICATED = "unauthenticated"  # who asks is not known at all
    DENIED = "denied"  # who asks may not do this
    NOT_FOUND = "not_found"  # no such thing to ask about
    CONFLICT = "conflict"  # the locker's state does not allow it now
    UNAVAILABLE = "unavailable"  # the locker cannot do it right now; try again later
    TOO_LARGE = "too_large"  # the request's body is larger than the locker reads
    HEADERS_TOO_LARGE = "headers_too_large"  # the request's head is larger than the locker reads
    INTERNAL = "internal"  # our bug


Detail = str | int | float | bool | None | tuple[str, ...]


class AppError(Exception):
    code: ClassVar[str] = "app_error"
    category: ClassVar[Category] = Category.INTERNAL

    def __init__(self, message: str, *, field: str | None = None, **details: Detail) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details: Mapping[str, Detail] = dict(details)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidPayload(AppError):
    """A command's payload does not have the contract's shape; ``field`` names the culprit."""

    code = "invalid"
    category = Category.INVALID


class UnknownCommand(AppError):
    code = "unknown_command"
    category = Category.INVALID


class UnknownCard(AppError):
    code = "unknown_card"
    category = Category.DENIED


class NotCommissioned(AppError):
    """The wiring map is not proven (``lockerd commission walk``): citizen flows are refused.

    A wrong map opens someone else's door; staff and maintenance opens still work.
    """

    code = "not_commissioned"
    category = Category.CONFLICT


class LayoutOrphansItems(AppError):
    """The configured layout drops compartments that still hold items or an open under way."""

    code = "layout_orphans_items"
    category = Category.CONFLICT

    def __init__(self, compartments: tuple[str, ...]) -> None:
        super().__init__(
            "the new layout removes compartments that are in use; empty them first "
            "(recall, collect or maintenance) or keep them in the layout",
            compartments=compartments,
        )
        self.compartments = compartments


class StoredStateInvalid(AppError):
    code = "stored_state_invalid"


class SecretsError(AppError):
    code = "secrets_error"
    category = Category.UNAVAILABLE


class SecretsMissing(SecretsError):
    code = "secrets_missing"


class SecretsInsecure(SecretsError):
    code = "secrets_insecure"


class SecretsMalformed(SecretsError):
    code = "secrets_malformed"
