"""The dataset page's checksums and the open-results search in Chromium, at 390 px and at
desktop width: short checksums that open to the whole value and copy it, gene suggestions as
one types, and the same pages without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.conftest import DemoInstance
from tests.e2e.browser import DESKTOP, PHONE, TIMEOUT_MS

WIDTHS = {"phone": PHONE, "desktop": DESKTOP}


def open_page(browser: Browser, live: DemoInstance, viewport: ViewportSize, *,
              script: bool = True) -> Iterator[Page]:
    context = browser.new_context(base_url=live.base_url, viewport=viewport,
                                  java_script_enabled=script)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(params=list(WIDTHS))
def page(request: pytest.FixtureRequest, browser: Browser, live: DemoInstance) -> Iterator[Page]:
    yield from open_page(browser, live, WIDTHS[request.param])


def page_width(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


def test_a_checksum_opens_to_its_whole_value_and_copies_it(page: Page) -> None:
    page.goto("/datasets/1")
    assert page_width(page) <= (page.viewport_size or PHONE)["width"]
    first = page.locator("td.checksum .digest").first
    whole = first.locator("code.full")
    expect(whole).to_be_hidden()
    value = first.locator("summary code").get_attribute("title") or ""
    assert len(value) == 64
    expect(first.locator("summary code")).to_have_text(value[:12] + "…")
    first.locator("summary").click()
    expect(whole).to_be_visible()
    expect(whole).to_have_text(value)
    first.get_by_role("button", name="Copy SHA-256").click()
    expect(first.get_by_role("button", name="Copy SHA-256")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == value
    expect(page.get_by_role("link", name="Download the manifest")).to_be_visible()


def test_typing_part_of_a_gene_name_suggests_genes(page: Page) -> None:
    page.goto("/results")
    assert page_width(page) <= (page.viewport_size or PHONE)["width"]
    page.get_by_label("Gene or variant").press_sequentially("al")
    expect(page.locator("#results-q-genes option[value='ALB']")).to_have_count(1)
    page.get_by_role("link", name="TP53").click()  # an example search
    expect(page.locator("h1")).to_contain_text("TP53")
    expect(page.locator("table.eqtls tbody tr").first).to_be_visible()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_without_javascript_a_partial_name_lists_genes_and_checksums_still_open(
    browser: Browser, live: DemoInstance, width: str,
) -> None:
    for page in open_page(browser, live, WIDTHS[width], script=False):
        page.goto("/results")
        page.get_by_label("Gene or variant").fill("al")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("link", name="ALB", exact=True)).to_be_visible()
        page.goto("/datasets/1")
        expect(page.get_by_role("button", name="Copy SHA-256")).to_have_count(0)
        first = page.locator("td.checksum .digest").first
        first.locator("summary").click()
        expect(first.locator("code.full")).to_be_visible()
        assert page_width(page) <= WIDTHS[width]["width"]
