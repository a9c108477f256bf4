"""Replies as values: what the app answers, serialised once at each edge.

Every front door of the app (``CommandApi``, ``Kiosk``, ``OperatorDesk``,
``Presentations``) answers with a ``Reply``: ``Done`` or ``Refusal``. A
refusal carries its ``Category``, so an edge decides what to do from the
category alone (the HTTP status, ``api/errors.py``), never from a table of
codes. The JSON form, the same for MQTT, HTTP, the admin socket and the
kiosk's events, is ``to_json()``::

    {"ok": true, "result": "reserved", "application": "…", "compartment": "A03", …}
    {"ok": false, "error": {"code": "invalid", "message": "…", "field": "deadline"}}

``result`` names the domain reply (``accepted``, ``reserved``, ``opening``,
``recall_entries``, ``inventory_report``) and its fields follow flat. An error
has a stable ``code``; ``field`` names the payload field at fault, ``details``
carries the machine-readable rest. Nothing here ever holds an ID number or a
code: replies are stored for de-duplication.

The codes come from three exception trees, each with its own docstring
(``domain/errors.py``, ``app/errors.py``, ``store/errors.py``); ``CODES``
is the registry of all of them with their category, read back when a
stored reply is answered again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as _default
from typing import Any

from locker_host.domain import Conflict, Denied, InvalidInput, LockerError, to_plain
from locker_host.domain import Reply as DomainReply
from locker_host.store import StoreError

from .errors import AppError, Category

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Done:
    """A request carried out; ``fields`` go beside ``"ok": true``.

    ``ok`` is False only for a staff card with nothing to do: the kiosk's wire
    answers that ``{"ok": false, "staff_open": {}}``, without an error.
    """

    fields: Mapping[str, Any] = _default(default_factory=dict)
    ok: bool = True

    def to_json(self) -> JsonDict:
        return {"ok": self.ok, **self.fields}


@dataclass(frozen=True)
class Refusal:
    """A request refused, with a stable ``code``.

    ``details`` is the machine-readable rest (``error.details``); ``inline`` goes into
    the error object itself (the HTTP layer's ``error.role``), ``extra`` beside it
    (the admin socket's ``known`` commands, a staff card's ``staff_open``).
    """

    code: str
    message: str
    category: Category
    field: str | None = None
    details: Mapping[str, Any] = _default(default_factory=dict)
    extra: Mapping[str, Any] = _default(default_factory=dict)
    inline: Mapping[str, Any] = _default(default_factory=dict)

    def to_json(self) -> JsonDict:
        body: JsonDict = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.details:
            body["details"] = {
                k: list(v) if isinstance(v, tuple) else v for k, v in self.details.items()
            }
        return {"ok": False, "error": {**body, **self.inline}, **self.extra}


Reply = Done | Refusal
Problem = LockerError | AppError | StoreError


def done(reply: DomainReply | None = None) -> Done:
    if reply is None:
        return Done()
    body = to_plain(type(reply), reply)
    assert isinstance(body, dict)
    return Done({"result": _snake(type(reply).__name__), **body})


def refusal(problem: Problem) -> Refusal:
    category = category_of(type(problem))
    match problem:
        case LockerError():
            return Refusal(problem.code, problem.message, category, details=problem.fields)
        case AppError():
            return Refusal(problem.code, problem.message, category, problem.field, problem.details)
        case StoreError():
            message = "the locker cannot save right now; nothing was done"
            return Refusal(problem.code, message, category)


def category_of(kind: type[Problem]) -> Category:
    if issubclass(kind, AppError):
        return kind.category
    if issubclass(kind, StoreError):
        return Category.UNAVAILABLE
    if issubclass(kind, InvalidInput):
        return Category.INVALID
    if issubclass(kind, Denied):
        return Category.DENIED
    if issubclass(kind, Conflict):
        return Category.CONFLICT
    return Category.INTERNAL  # LockerError itself: a refusal the domain did not classify


def _tree(root: type[Problem]) -> Iterator[type[Problem]]:
    yield root
    for sub in root.__subclasses__():
        yield from _tree(sub)


def _registry() -> dict[str, Category]:
    codes: dict[str, Category] = {}
    roots: tuple[type[Problem], ...] = (LockerError, AppError, StoreError)
    for kind in (kind for root in roots for kind in _tree(root)):
        category = category_of(kind)
        # One code, one meaning: the same code in two trees must mean the same thing.
        assert codes.setdefault(kind.code, category) is category, kind.code
    return codes


CODES: Mapping[str, Category] = _registry()
"""Every code the app, the domain and the store may refuse with, and its category."""


def from_json(stored: Mapping[str, Any]) -> Reply:
    """A reply as ``to_json`` wrote it (a central command's stored reply), as a value again."""
    body = dict(stored)
    ok = bool(body.pop("ok", False))
    error = body.pop("error", None)
    if ok or not isinstance(error, Mapping):
        return Done(body, ok)
    code = str(error.get("code", ""))
    details = error.get("details") or {}
    return Refusal(
        code,
        str(error.get("message", "")),
        CODES.get(code, Category.INTERNAL),
        error.get("field"),
        {k: tuple(v) if isinstance(v, list) else v for k, v in details.items()},
        body,
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
