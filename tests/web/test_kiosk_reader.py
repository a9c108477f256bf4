"""The kiosk when a card at the physical reader cannot be used (issue 14 item 1,
issue 17 item 3), in Chromium against lockerd and the simulated SAM reader.

A card whose number is not valid, or a read the reader failed, used to leave
the screen on 请刷身份证. Now the stream's `kiosk` event carries the reader's
code (never the number) and the page says what to do, in both languages, and
speaks it. The voice is the recorder of test_kiosk.py (headless Chromium has
none); the raw `kiosk` events are recorded by wrapping EventSource.
"""

from __future__ import annotations

import json
import time
from typing import Any

from locker_host.domain.identity import gb11643_check_char
from tests.e2e.conftest import Locker
from tests.e2e.test_flows import load, reserve

from .checks import assert_readable
from .conftest import screenshot
from .test_kiosk import SPEECH_RECORDER, on_screen, open_kiosk

EVENT_RECORDER = """
window.__kioskEvents = [];
const NativeEventSource = window.EventSource;
window.EventSource = class extends NativeEventSource {
  constructor(...args) {
    super(...args);
    this.addEventListener("kiosk", (event) => window.__kioskEvents.push(event.data));
  }
};
"""
FEB_30_1850 = "11010518500230001" + gb11643_check_char("11010518500230001")
BAD_CHECK = "110105194912310021"  # the GB 11643 example with a wrong check character
AREA_ZERO = "010105194912310021"  # no area code starts with 0: no known form


def lift_card(locker: Locker) -> None:
    """The card leaves the reader, and lockerd has seen it empty (a find answered 80)."""
    reader = locker.rig.sim.card_reader  # type: ignore[attr-defined]
    counters = reader.model.counters
    empty = counters["finds"] - counters["found"]
    locker.rig.command("remove_card")
    deadline = time.monotonic() + 10
    while counters["finds"] - counters["found"] <= empty:
        assert time.monotonic() < deadline, "lockerd never saw the reader empty"
        time.sleep(0.02)


def kiosk_events(page: Any) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in page.evaluate("window.__kioskEvents")]


def raw_events(page: Any) -> str:
    return "".join(page.evaluate("window.__kioskEvents"))


def test_a_card_that_is_not_valid_says_so_in_both_languages_and_keeps_no_number(
    locker: Locker, page: Any, base_url: str
) -> None:
    page.add_init_script(SPEECH_RECORDER)
    page.add_init_script(EVENT_RECORDER)
    open_kiosk(page, base_url, "?result_s=60")
    for count, number in enumerate((FEB_30_1850, BAD_CHECK, AREA_ZERO), 1):
        locker.rig.swipe(number)
        on_screen(page, "error")
        page.wait_for_function(f"window.__kioskEvents.length >= {count}")
        assert page.get_attribute("#error-text", "data-code") == "card_not_valid"
        assert page.text_content("#error-text") == "此证件在此无法使用，请联系工作人员"
        assert page.text_content("#error-text-other") == (
            "This card is not valid here: please ask the staff"
        )
        assert number not in raw_events(page) and number[-4:] not in raw_events(page)
        assert number not in page.content()
        page.click("[data-screen=error] [data-go=idle]")
        on_screen(page, "idle")
        lift_card(locker)
    screenshot(page, "kiosk-card-not-valid")
    events = kiosk_events(page)
    assert [e["reply"]["error"]["code"] for e in events] == ["card_not_valid"] * 3
    assert {(e["source"], e["action"], e["reply"]["ok"]) for e in events} == {
        ("reader", "pickup", False)
    }
    assert "此证件在此无法使用，请联系工作人员" in page.evaluate("window.__spoken")


def test_a_failed_read_asks_to_place_the_card_again_then_the_pickup_goes_on(
    locker: Locker, page: Any, base_url: str
) -> None:
    cid = reserve(locker, "APP-WEB-READ", "alice")
    load(locker, cid, "APP-WEB-READ")
    page.add_init_script(SPEECH_RECORDER)
    page.add_init_script(EVENT_RECORDER)
    open_kiosk(page, base_url, "?result_s=60")
    # The reader fails the read with 41, then answers 80 until the card is placed
    # again (Huashi): the sequence that used to leave the screen unchanged.
    locker.rig.command("reader_fault", fault="read_failure_once")
    locker.rig.swipe(locker.card["alice"])
    on_screen(page, "error")
    assert page.get_attribute("#error-text", "data-code") == "read_failed"
    assert page.text_content("#error-text") == "未能读取证件，请拿起证件，重新放到读卡器上"
    assert page.text_content("#error-text-other") == (
        "The card could not be read: lift it and place it on the reader again"
    )
    assert "未能读取证件，请拿起证件，重新放到读卡器上" in page.evaluate("window.__spoken")
    assert_readable(page)
    screenshot(page, "kiosk-place-card-again")
    health = locker.lockerd.admin("health")
    (reader,) = [r for r in health["readers"] if r["name"] == "idcard"]
    assert reader["faults_by_code"]["read_failed"] == 1

    # Placed again: the pickup opens the door.
    locker.rig.swipe(locker.card["alice"])
    on_screen(page, "opened")
    assert cid in page.text_content("#opened-doors")
    assert locker.card["alice"] not in raw_events(page)
