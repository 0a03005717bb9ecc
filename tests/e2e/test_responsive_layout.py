"""One layout for every width: at 390 px the header folds into a menu and no page is wider
than the screen; wide tables scroll inside their own box."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import DemoInstance
from tests.e2e.browser import DESKTOP, PHONE, TIMEOUT_MS, sign_in_from_header

# Each role's pages, the widest the demo has (long tables, long option labels).
PAGES_BY_ROLE: dict[str | None, list[str]] = {
    None: ["/", "/results", "/results/genes/ALB", "/datasets/1", "/datasets/2"],
    "researcher": ["/work", "/requests", "/requests/new", "/tokens", "/datasets/1"],
    "dac-chair": ["/requests", "/committees/1/queue"],
    "auditor": ["/audit", "/audit/downloads", "/audit/alerts"],
    "admin": ["/admin/requests", "/admin/users", "/admin/committees", "/admin/committees/1"],
}


@pytest.fixture
def phone(browser: Browser, live: DemoInstance) -> Iterator[Page]:
    context = browser.new_context(base_url=live.base_url, viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser: Browser, live: DemoInstance) -> Iterator[Page]:
    context = browser.new_context(base_url=live.base_url, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def page_width(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


@pytest.mark.parametrize("role", list(PAGES_BY_ROLE), ids=lambda r: r or "anonymous")
def test_no_page_is_wider_than_a_phone(phone: Page, role: str | None) -> None:
    phone.goto("/")
    if role is not None:
        sign_in_from_header(phone, role)
    too_wide = {}
    for path in PAGES_BY_ROLE[role]:
        response = phone.goto(path)
        assert response is not None and response.status == 200, path
        if page_width(phone) > PHONE["width"]:
            too_wide[path] = page_width(phone)
    assert not too_wide, f"wider than {PHONE['width']} px: {too_wide}"


def test_the_header_folds_into_a_menu_at_phone_width(phone: Page) -> None:
    phone.goto("/")
    sign_in_from_header(phone, "researcher")
    phone.goto("/requests")
    header = phone.locator("header")
    expect(header.get_by_role("button", name="Sign out")).to_be_hidden()
    expect(header.get_by_role("link", name="API tokens")).to_be_hidden()
    header.get_by_text("Menu").click()
    for name in ("Catalogue", "Requests", "API tokens"):
        link = header.get_by_role("link", name=name)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], name
    sign_out = header.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()
    # Inside the dark bar, not spilling out onto the light page.
    bar, button = header.bounding_box(), sign_out.bounding_box()
    assert bar is not None and button is not None
    assert button["y"] + button["height"] <= bar["y"] + bar["height"]


def test_wide_screens_show_the_links_without_a_menu(desktop: Page) -> None:
    desktop.goto("/")
    header = desktop.locator("header")
    expect(header.get_by_text("Menu")).to_be_hidden()
    expect(header.get_by_role("link", name="Open results")).to_be_visible()
    expect(header.get_by_role("link", name="Sign in")).to_be_visible()


def test_a_wide_table_scrolls_in_its_box_not_the_page(phone: Page) -> None:
    phone.goto("/datasets/1")
    box = phone.locator(".table-scroll").filter(has=phone.locator("table.files"))
    sizes = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert sizes[0] > sizes[1], sizes  # the table is wider than its box: the box scrolls
    assert page_width(phone) <= PHONE["width"]


def test_signing_in_from_the_sign_in_pages_own_header_link_ends_signed_in(
    desktop: Page,
    live: DemoInstance,
) -> None:
    """The IdP's page has the site header too; its "Sign in" must not lead back to the
    spent sign-in page (which used to end on an error page)."""
    desktop.goto("/auth/login?next=/requests")
    desktop.wait_for_url(re.compile(r"/dev-idp/authorize\?"))
    sign_in_from_header(desktop, "researcher")
    assert desktop.url == f"{live.base_url}/work"
    expect(desktop.get_by_role("heading", level=1)).not_to_contain_text("wrong")
    expect(desktop.locator(".error-page")).to_have_count(0)
