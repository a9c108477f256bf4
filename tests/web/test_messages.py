"""Every word a person reads exists in Chinese and in English.

* every error code the app can answer with (the domain's and the app's
  refusals, the store's failures, the kiosk swipe's and the readers' codes,
  the HTTP layer's own) has plain words in both languages;
* every key the pages use (``data-i18n="..."`` in the HTML, ``t("...")`` in
  the scripts) is defined in both languages, and the Chinese really is Chinese.
"""

from __future__ import annotations

import re

import pytest

from locker_host.app.errors import AppError
from locker_host.domain import LockerError
from locker_host.readers import FaultCode
from locker_host.readers.http_swipe import SwipeErrorCode
from locker_host.store import StoreError

from .pages import LANGUAGES, messages, page_sources

# Codes the HTTP layer adds (docs: the web contract) and the pages' own two.
HTTP_CODES = {"unauthenticated", "forbidden", "kiosk_not_local"}
PAGE_CODES = {"network", "http_error"}
KEY_GROUPS = ("common", "idle", "pickup", "dropoff", "code", "opened", "done", "error", "staff")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _codes(root: type) -> set[str]:
    found: set[str] = set()
    stack = [root]
    while stack:
        cls = stack.pop()
        found.add(cls.code)  # type: ignore[attr-defined]
        stack.extend(cls.__subclasses__())
    return found


def app_codes() -> set[str]:
    return (
        _codes(LockerError)
        | _codes(AppError)
        | _codes(StoreError)
        | {c.value for c in SwipeErrorCode}
        | {c.value for c in FaultCode}
        | HTTP_CODES
        | PAGE_CODES
    )


def test_the_collection_finds_the_codes_a_citizen_meets() -> None:
    codes = app_codes()
    assert {"nothing_for_you", "wrong_code", "no_compartment_available", "store_busy"} <= codes
    assert len(codes) > 60


@pytest.mark.parametrize("code", sorted(app_codes()))
def test_every_error_code_has_words_in_both_languages(code: str) -> None:
    entry = messages()["errors"].get(code)
    assert entry is not None, f"messages.json has no words for the error code {code!r}"
    for language in LANGUAGES:
        assert entry.get(language, "").strip(), f"{code}: no {language} text"
    assert CJK.search(entry["zh"]), f"{code}: the zh text is not Chinese"
    assert not CJK.search(entry["en"]), f"{code}: the en text holds Chinese"


def test_no_error_words_for_codes_nobody_sends() -> None:
    stale = set(messages()["errors"]) - app_codes()
    assert not stale, f"messages.json explains codes that no longer exist: {sorted(stale)}"


def used_keys() -> set[str]:
    keys: set[str] = set()
    for name, text in page_sources().items():
        keys |= set(re.findall(r'data-i18n(?:-placeholder)?="([\w.]+)"', text))
        if name.endswith(".js"):
            # t("key") and the keys picked in a ternary before t() sees them
            keys |= set(re.findall(r'\bt\(\s*"([\w.]+)"', text))
            keys |= set(re.findall(rf'"((?:{"|".join(KEY_GROUPS)})\.\w+)"', text))
    return keys


def test_the_pages_use_keys_at_all() -> None:
    assert {"idle.title", "opened.close_door", "done.receipt_title"} <= used_keys()


@pytest.mark.parametrize("key", sorted(used_keys()))
def test_every_key_the_pages_use_exists_in_both_languages(key: str) -> None:
    entry = messages()["ui"].get(key)
    assert entry is not None, f"messages.json has no ui key {key!r}"
    for language in LANGUAGES:
        assert entry.get(language, "").strip(), f"{key}: no {language} text"


def test_chinese_texts_are_chinese() -> None:
    ui = messages()["ui"]
    # The switch button says the other language's name; sizes and ids may be Latin.
    latin_ok = {"lang.switch"}
    for key, entry in ui.items():
        if key not in latin_ok:
            assert CJK.search(entry["zh"]), f"{key}: the zh text is not Chinese: {entry['zh']!r}"


def test_placeholders_match_between_languages() -> None:
    for section in ("ui", "errors"):
        for key, entry in messages()[section].items():
            names = {lang: set(re.findall(r"\{(\w+)\}", entry[lang])) for lang in LANGUAGES}
            assert names["zh"] == names["en"], f"{key}: placeholders differ {names}"
