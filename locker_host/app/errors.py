"""The app layer's own refusals and failures, each with a stable ``code``.

The domain refuses commands with ``LockerError`` (``locker_host.domain``); the
store fails with ``StoreError`` (``locker_host.store``). What is left is what
only the app can tell: a payload that does not parse, a stale or unknown
command, a staff card nobody knows, a layout change that would orphan items,
a secrets file that cannot be trusted, stored state that cannot be read::

    AppError                        code
    ├── InvalidPayload              invalid                 (names the ``field``)
    ├── UnknownCommand              unknown_command
    ├── CommandExpired              expired
    ├── UnknownCard                 unknown_card
    ├── NotCommissioned             not_commissioned
    ├── LayoutOrphansItems          layout_orphans_items
    ├── StoredStateInvalid          stored_state_invalid
    └── SecretsError
        ├── SecretsMissing          secrets_missing
        ├── SecretsInsecure         secrets_insecure
        └── SecretsMalformed        secrets_malformed

Messages never quote the offending value: it may be an ID number or a code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

Detail = str | int | float | bool | None | tuple[str, ...]


class AppError(Exception):
    code: ClassVar[str] = "app_error"

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


class UnknownCommand(AppError):
    code = "unknown_command"


class CommandExpired(AppError):
    """``expires_at`` has passed on a trusted clock: the command is answered, never executed."""

    code = "expired"


class UnknownCard(AppError):
    code = "unknown_card"


class NotCommissioned(AppError):
    """The wiring map is not proven (``lockerd commission walk``): citizen flows are refused.

    A wrong map opens someone else's door; staff and maintenance opens still work.
    """

    code = "not_commissioned"


class LayoutOrphansItems(AppError):
    """The configured layout drops compartments that still hold items or an open under way."""

    code = "layout_orphans_items"

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


class SecretsMissing(SecretsError):
    code = "secrets_missing"


class SecretsInsecure(SecretsError):
    code = "secrets_insecure"


class SecretsMalformed(SecretsError):
    code = "secrets_malformed"
