"""The kiosk page in Chromium, against lockerd and the simulated locker.

A card swiped at the simulated SAM reader goes through lockerd's reader, its
`Presentations`, the API's stream and the page: nothing is faked between the
card and the screen but the citizen's hands (the simulator's doors and
items). Only the browser's voice is a stand-in: headless Chromium has none,
so a recorder that offers a zh-CN voice takes the spoken prompts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import ALICE, CAROL, Locker
from tests.e2e.test_flows import load, opened, reserve

from .checks import assert_readable
from .conftest import KIOSK_TOKEN, LANDSCAPE, screenshot

SPEECH_RECORDER = (Path(__file__).parent / "speech_recorder.js").read_text(encoding="utf-8")


def open_kiosk(tab: Any, base_url: str, query: str = "") -> None:
    tab.goto(f"{base_url}/kiosk/{query}#token={KIOSK_TOKEN}")
    tab.wait_for_selector("body[data-ready=true][data-stream=live]")
    assert "token" not in tab.url, "the token stays out of the address bar"


def on_screen(tab: Any, name: str, timeout: float = 10_000) -> None:
    tab.wait_for_selector(f'section[data-screen="{name}"]:not([hidden])', timeout=timeout)


def test_a_pickup_started_by_a_card_swipe(locker: Locker, page: Any, base_url: str) -> None:
    cid = reserve(locker, "APP-WEB-1", "alice")
    load(locker, cid, "APP-WEB-1")
    page.add_init_script(SPEECH_RECORDER)
    open_kiosk(page, base_url)
    assert page.text_content("section[data-screen=idle] h1") == "请刷身份证"
    assert_readable(page)
    screenshot(page, "kiosk-idle-portrait")

    locker.rig.swipe(locker.card["alice"])
    on_screen(page, "opened")
    assert cid in page.text_content("#opened-doors")
    target = page.get_attribute(f'#opened-map [data-compartment="{cid}"]', "class")
    assert "target" in target
    # The simulated citizen opens the door: the page asks to close it.
    page.wait_for_function("document.querySelector('#opened-prompt').textContent === '请关好柜门'")
    assert_readable(page)
    screenshot(page, "kiosk-pickup-opened")
    spoken = page.evaluate("window.__spoken")
    assert any(cid in text for text in spoken), spoken
    assert "请关好柜门" in spoken

    locker.rig.take(cid)
    locker.rig.close(cid)
    on_screen(page, "done")
    assert page.text_content("#done-title") == "取件完成，谢谢"
    screenshot(page, "kiosk-pickup-done")
    locker.lockerd.wait_event("certificate.collected", application="APP-WEB-1")
    assert ALICE not in page.content()


def test_a_dropoff_by_card_shows_the_receipt(locker: Locker, page: Any, base_url: str) -> None:
    page.set_viewport_size(LANDSCAPE)
    open_kiosk(page, base_url)
    screenshot(page, "kiosk-idle-landscape")
    page.click("[data-go=dropoff]")
    page.click("[data-service=business_licence]")
    on_screen(page, "dropoff-size")
    page.click("#accessible")
    assert page.get_attribute("#accessible", "aria-checked") == "true"
    assert_readable(page)
    screenshot(page, "kiosk-dropoff-size")
    page.click("#accessible")  # the test locker has no heights: no low compartment to offer
    assert page.get_attribute("#accessible", "aria-checked") == "false"
    page.click("#arm")
    on_screen(page, "dropoff-swipe")

    locker.rig.swipe(locker.card["alice"])
    cid = opened(locker, "deposit")
    on_screen(page, "opened")
    assert cid in page.text_content("#opened-doors")
    assert page.text_content("#opened-title") == "柜门已打开，请放入材料"
    screenshot(page, "kiosk-dropoff-opened")
    locker.rig.put(cid)
    locker.rig.close(cid)
    on_screen(page, "done")
    receipt = page.text_content("#receipt-number")
    held = locker.lockerd.compartment(cid)["items"]
    assert [item["item"] for item in held] == [receipt]
    assert held[0]["kind"] == "dossier"
    assert_readable(page)
    screenshot(page, "kiosk-dropoff-receipt")


def test_errors_in_plain_words_the_language_switch_and_the_timeouts(
    locker: Locker, page: Any, base_url: str
) -> None:
    open_kiosk(page, base_url, "?result_s=3&idle_s=3")
    locker.rig.swipe(CAROL)  # nothing waits for her
    on_screen(page, "error")
    assert page.get_attribute("#error-text", "data-code") == "nothing_for_you"
    assert page.text_content("#error-text") == "没有您的物品"
    assert_readable(page)
    screenshot(page, "kiosk-error-nothing-zh")
    page.click("#lang")
    assert page.text_content("#error-text") == "Nothing is waiting for you"
    assert page.get_attribute("html", "lang") == "en"
    assert page.text_content("#lang") == "中文"
    screenshot(page, "kiosk-error-nothing-en")
    # A result screen goes back to the start by itself, in Chinese for the next person.
    on_screen(page, "idle", timeout=6_000)
    assert page.text_content("section[data-screen=idle] h1") == "请刷身份证"
    assert page.get_attribute("html", "lang") == "zh-CN"

    page.click("[data-go=code-pickup]")
    on_screen(page, "code")
    for digit in "48291637":
        page.click(f'[data-key="{digit}"]')
    assert page.text_content("#code-display") == "48291637"
    assert_readable(page)
    screenshot(page, "kiosk-code-keypad")
    page.click("#code-submit")
    on_screen(page, "error")
    assert page.get_attribute("#error-text", "data-code") == "wrong_code"
    assert page.text_content("#error-text") == "取件码不正确，请核对短信后重新输入"
    assert "48291637" not in page.content(), "a typed code is not kept on screen"
    screenshot(page, "kiosk-error-wrong-code")
    page.click("#error-retry")
    on_screen(page, "code")
    assert page.text_content("#code-display") == ""

    # A choice screen left alone returns to the start after idle_s.
    page.click("[data-screen=code] [data-go=idle]")
    page.click("#lang")
    page.click("[data-go=dropoff]")
    on_screen(page, "dropoff-service")
    assert page.text_content("[data-service=business_licence]") == "Business licence"
    assert_readable(page)
    screenshot(page, "kiosk-services-en")
    on_screen(page, "idle", timeout=6_000)
    assert page.text_content("section[data-screen=idle] h1") == "请刷身份证"
