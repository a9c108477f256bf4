"""The pages in real headless Chromium, against a real lockerd and the simulator.

Chromium is Debian's (``/usr/bin/chromium``, installed by run.sh), driven by
Playwright over its DevTools protocol; Playwright never downloads a browser
here. One browser per session with a fresh profile directory; every test
gets a fresh simulator, lockerd (with ``[http]`` on a free loopback port and
two tokens: a kiosk and a technician) and browser tab.

Without Chromium the browser tests are skipped with the reason, except in CI
(``CI`` set), where run.sh has installed it and a skip would hide a failure.

Screenshots go to ``test-artifacts/web/`` (gitignored) for people to look at.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    commissioned_dbs,
    locker,
    locker_overrides,
    rig,
)
from tests.mqtt.broker import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
KIOSK_TOKEN = "kiosk-" + "k" * 40
TECH_TOKEN = "tech-" + "t" * 40
STAFF_TOKEN = "staff-" + "s" * 40
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture(scope="package")
def browser_context() -> Iterator[Any]:
    # Package scope: Playwright's sync API keeps an event loop running in the main
    # thread while it is up, and the async tests of packages run after this one
    # (`pytest tests/web tests/daemon`) need asyncio.run there.
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing: ./run.sh test installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    profile = tempfile.mkdtemp(prefix="locker-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport=PORTRAIT,
                locale="zh-CN",
            )
            context.set_default_timeout(10_000)
            yield context
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    """A fresh tab; a JavaScript error on the page fails the test."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def pytest_configure(config: pytest.Config) -> None:
    # The e2e fixtures' markers, when tests/web runs without tests/e2e.
    config.addinivalue_line("markers", "locker_config(changes): merged into the e2e configuration")
    config.addinivalue_line("markers", "uncommissioned: start from an empty database")


@pytest.fixture(autouse=True)
def _http_config(request: pytest.FixtureRequest) -> int:
    """Give the e2e `locker` fixture an [http] table before it starts lockerd."""
    port = free_port()
    if "locker" not in request.fixturenames:
        return port
    request.node.add_marker(
        pytest.mark.locker_config(
            {
                "http": {
                    "bind": "127.0.0.1",
                    "port": port,
                    "tokens": [
                        {"name": "kiosk-front", "role": "kiosk", "sha256": _digest(KIOSK_TOKEN)},
                        {"name": "desk", "role": "technician", "sha256": _digest(TECH_TOKEN)},
                        {"name": "clerk", "role": "staff", "sha256": _digest(STAFF_TOKEN)},
                    ],
                }
            }
        )
    )
    return port


@pytest.fixture
def base_url(_http_config: int) -> str:
    return f"http://127.0.0.1:{_http_config}"


def screenshot(tab: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path))
    return path
