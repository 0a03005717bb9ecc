"""Debian's Chromium driven by Playwright, shared by every browser test.

`make system-packages` installs /usr/bin/chromium; never `playwright install` (no download
works here). One browser per test session; each test opens its own profile.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, expect, sync_playwright

from tests.conftest import DemoInstance

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
TIMEOUT_MS = 10_000
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}  # an iPhone 12-14's CSS viewport


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-packages` (Debian's chromium)")
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
    )
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, live: DemoInstance) -> Iterator[Page]:
    """A fresh browser profile (no cookies) per test, at desktop width, on the live demo."""
    context = browser.new_context(base_url=live.base_url, accept_downloads=True,
                                  viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def open_menu_if_folded(page: Page) -> None:
    """At phone width the header's links sit behind "Menu"; open it as a person would."""
    menu = page.locator("header details.site-menu")
    if page.locator("header summary").is_visible() and menu.get_attribute("open") is None:
        page.locator("header summary").click()


def sign_in_from_header(page: Page, username: str) -> None:
    """Click the header's "Sign in", pick the persona on the IdP's page, land back."""
    open_menu_if_folded(page)
    page.locator("header").get_by_role("link", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dev-idp/authorize\?"))
    page.locator("form.dev-idp-login input[name=username]").fill(username)
    page.locator("form.dev-idp-login").get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    open_menu_if_folded(page)
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_be_visible()
