"""The auditors' and admins' pages in Chromium, at desktop width and at 390 px, each checked
with axe-core: the verification page and its check button, the report
form's pickers, named reports, the admin's list of every request and its filters."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.conftest import DemoInstance
from tests.e2e.axe import assert_accessible
from tests.e2e.browser import DESKTOP, PHONE, TIMEOUT_MS, sign_in_from_header

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(params=list(WIDTHS))
def viewport(request: pytest.FixtureRequest) -> ViewportSize:
    chosen: ViewportSize = WIDTHS[request.param]
    return chosen


def signed_in(browser: Browser, live: DemoInstance, viewport: ViewportSize, persona: str
              ) -> Iterator[tuple[Page, ViewportSize]]:
    # axe-core needs JavaScript; the pages have none of their own (test_audit_access.py),
    # so what is checked here is what a browser without it gets too.
    context = browser.new_context(base_url=live.base_url, viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/")
    sign_in_from_header(page, persona)
    yield page, viewport
    context.close()


@pytest.fixture
def auditor(browser: Browser, live: DemoInstance, viewport: ViewportSize
            ) -> Iterator[tuple[Page, ViewportSize]]:
    yield from signed_in(browser, live, viewport, "auditor")


@pytest.fixture
def admin(browser: Browser, live: DemoInstance, viewport: ViewportSize
          ) -> Iterator[tuple[Page, ViewportSize]]:
    yield from signed_in(browser, live, viewport, "admin")


def fits(page: Page, viewport: ViewportSize) -> None:
    """No wider than the screen, and no critical or serious axe violation."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url} is {width} px wide"
    assert_accessible(page)


def test_the_auditor_checks_the_log_from_the_verification_page(
    auditor: tuple[Page, ViewportSize], live: DemoInstance,
) -> None:
    page, viewport = auditor
    page.goto("/audit/verification")
    expect(page.locator("#no-checkpoint")).to_contain_text("No checkpoint has been signed yet")
    fits(page, viewport)
    signed = live.app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    size = int(signed.output.split("\n")[1])
    page.reload()
    expect(page.locator("dl.checkpoint")).to_contain_text(f"events 1 to {size}")
    fits(page, viewport)
    page.get_by_role("button", name="Check the log").click()
    expect(page).to_have_url(re.compile(r"/audit/verification$"))
    expect(page.locator(".flash-success")).to_contain_text(f"Intact: events 1 to {size}")
    expect(page.locator("dl.last-check")).to_contain_text("Avery Auditor")
    fits(page, viewport)
    page.get_by_role("link", name="Search").first.click()
    page.locator("a", has_text="1").first.wait_for()
    page.goto("/audit/events/1")
    page.get_by_role("link", name="inclusion proof").wait_for()
    fits(page, viewport)


def test_the_report_form_finds_a_person_by_name_and_shows_names(
    auditor: tuple[Page, ViewportSize],
) -> None:
    page, viewport = auditor
    page.goto("/audit/reports")
    fits(page, viewport)
    person = page.locator("#user-report")
    person.get_by_label("Name, email, subject or user id").fill("Researcher")
    person.get_by_role("button").click()
    expect(page.get_by_role("heading", name="Who did you mean?")).to_be_visible()
    page.get_by_role("link", name=re.compile("Riley Researcher")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Riley Researcher <researcher@demo.example>: which files they received")
    fits(page, viewport)
    page.goto("/audit/reports")
    dataset = page.locator("#dataset-report")
    picker = dataset.get_by_label("Dataset")
    value = picker.locator("option", has_text="General Research Use").get_attribute("value")
    assert value is not None
    picker.select_option(value=value)
    dataset.get_by_role("button").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("General Research Use")
    fits(page, viewport)


def test_the_admin_filters_every_request(admin: tuple[Page, ViewportSize]) -> None:
    page, viewport = admin
    page.goto("/admin/requests")
    expect(page.get_by_role("heading", level=1)).to_have_text("All requests")
    fits(page, viewport)
    filters = page.locator("#request-filters")
    filters.get_by_label("State").select_option("draft")
    filters.get_by_label(re.compile("Only the stuck")).check()
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"state=draft.*stuck=1"))
    expect(page.locator("#all-requests")).to_contain_text("No request matches")
    fits(page, viewport)
    filters.get_by_label("Filed from").fill("2026-02-02")
    filters.get_by_label("Filed until").fill("2026-02-01")
    filters.get_by_role("button", name="Filter").click()
    expect(page.locator(".form-errors")).to_contain_text("must not be after")
    fits(page, viewport)
    page.locator("nav[aria-label=Administration]").get_by_role("link", name="Catalogue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue administration")
