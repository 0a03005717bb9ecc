"""The auditors' pages in Chromium, with JavaScript off, at desktop width and at 390 px:
the verification page and its check button, the report form's pickers, named reports."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.conftest import DemoInstance
from tests.e2e.browser import DESKTOP, PHONE, TIMEOUT_MS, sign_in_from_header

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(params=list(WIDTHS))
def auditor(request: pytest.FixtureRequest, browser: Browser, live: DemoInstance
            ) -> Iterator[tuple[Page, ViewportSize]]:
    viewport: ViewportSize = WIDTHS[request.param]
    context = browser.new_context(base_url=live.base_url, viewport=viewport,
                                  java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/")
    sign_in_from_header(page, "auditor")
    yield page, viewport
    context.close()


def fits(page: Page, viewport: ViewportSize) -> None:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url} is {width} px wide"


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
