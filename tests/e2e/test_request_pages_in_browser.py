"""The request pages as people use them, in Chromium at desktop width and at 390 px: my work
after sign-in, the tracker and timeline, the chair's decision and its confirmation with
JavaScript switched off, errors beside the field, and a broken download link's page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.conftest import DemoInstance, csrf_header, sign_in
from tests.e2e.browser import DESKTOP, PHONE, TIMEOUT_MS, open_menu_if_folded, sign_in_from_header

STATEMENT = "We study tissue-specific regulation of gene expression in ageing adults."
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(params=list(WIDTHS))
def viewport(request: pytest.FixtureRequest) -> ViewportSize:
    chosen: ViewportSize = WIDTHS[request.param]
    return chosen


def opened(
    browser: Browser, live: DemoInstance, viewport: ViewportSize, *, script: bool = True
) -> Page:
    context = browser.new_context(
        base_url=live.base_url, viewport=viewport, java_script_enabled=script
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def pages(browser: Browser) -> Iterator[list[Page]]:
    made: list[Page] = []
    yield made
    for page in made:
        page.context.close()


def fits(page: Page, viewport: ViewportSize) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url} is {width} px wide"


def endorsed_request(base: str) -> int:
    """Filed and submitted by the researcher, endorsed with a comment (through the API)."""
    researcher = sign_in(base, "researcher")
    filed = researcher.post(
        f"{base}/api/v1/requests",
        headers=csrf_header(researcher, base),
        timeout=10,
        json={"title": "Ageing eQTLs", "research_use_statement": STATEMENT, "dataset_ids": [1]},
    )
    request_id: int = filed.json()["id"]
    researcher.post(
        f"{base}/api/v1/requests/{request_id}/submit",
        headers=csrf_header(researcher, base),
        timeout=10,
    )
    official = sign_in(base, "signing-official")
    endorsed = official.post(
        f"{base}/api/v1/requests/{request_id}/endorse",
        headers=csrf_header(official, base),
        timeout=10,
        json={"comment": "Known to us; well supervised."},
    )
    assert endorsed.status_code == 200, endorsed.text
    return request_id


def test_the_chair_decides_and_confirms_without_javascript(
    browser: Browser,
    live: DemoInstance,
    viewport: ViewportSize,
    pages: list[Page],
) -> None:
    request_id = endorsed_request(live.base_url)
    page = opened(browser, live, viewport, script=False)
    pages.append(page)
    page.goto("/")
    open_menu_if_folded(page)  # a <details>: opens without script
    page.locator("header").get_by_role("link", name="Sign in").click()
    page.locator("form.dev-idp-login input[name=username]").fill("dac-chair")
    page.locator("form.dev-idp-login").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    expect(page.locator("#to-decide")).to_contain_text("Ageing eQTLs")
    fits(page, viewport)
    page.locator("#to-decide").get_by_role("link", name=re.compile("Ageing eQTLs")).click()
    panel = page.locator("#decision-panel")
    expect(panel.locator("#so-comment")).to_contain_text("Known to us; well supervised.")
    expect(panel.locator("#vote-tally")).to_contain_text("0 of 2 members voted")
    for choice in panel.locator("input[name=decision]").all():
        expect(choice).not_to_be_checked()
    fits(page, viewport)
    panel.get_by_label("Reject, with the reason below").check()
    panel.get_by_label("Reason, to approve or reject").fill("Outside the consent.")
    panel.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Reject request {request_id}?")
    fits(page, viewport)
    page.get_by_role("button", name="Yes, reject it").click()
    expect(page.locator("#request-state")).to_have_attribute("data-state", "rejected")
    expect(page.locator(".flash-success")).to_contain_text("The request is rejected")
    expect(page.locator("#timeline")).to_contain_text("Dana Chair (committee chair) rejected.")


def test_the_researcher_lands_on_work_and_reads_where_the_request_stands(
    browser: Browser,
    live: DemoInstance,
    viewport: ViewportSize,
    pages: list[Page],
) -> None:
    request_id = endorsed_request(live.base_url)
    page = opened(browser, live, viewport)
    pages.append(page)
    page.goto("/")
    sign_in_from_header(page, "researcher")
    expect(page).to_have_url(f"{live.base_url}/work")
    page.goto(f"/requests/{request_id}")
    expect(page.locator("ol.tracker [aria-current=step]")).to_contain_text("Committee review")
    expect(page.locator("#next-step")).to_contain_text("Members read the request and vote")
    expect(page.locator("#timeline")).to_contain_text(
        "Sam Official (signing official) endorsed the request"
    )
    fits(page, viewport)

    page.goto("/requests/new")
    page.get_by_label("Project title").fill("ab")
    page.get_by_role("button", name="Save draft").click()
    title_box = page.locator("#field-title").bounding_box()
    error = page.locator("#title-error")
    expect(error).to_be_visible()
    expect(page.locator("#research_use_statement-error")).to_be_visible()
    expect(page.locator("#dataset_ids-error")).to_be_visible()
    box = error.bounding_box()
    assert title_box is not None and box is not None
    assert 0 <= box["y"] - (title_box["y"] + title_box["height"]) < 40  # right below it
    expect(page.locator("#field-title")).to_have_value("ab")
    fits(page, viewport)


def test_a_tampered_download_link_opens_a_page_not_json(
    browser: Browser,
    live: DemoInstance,
    viewport: ViewportSize,
    pages: list[Page],
) -> None:
    base = live.base_url
    listed = requests.get(f"{base}/api/v1/datasets", timeout=10).json()["datasets"]
    open_set = next(d for d in listed if d["tier"] == "open")
    detail = requests.get(f"{base}/api/v1/datasets/{open_set['id']}", timeout=10).json()
    url = requests.get(f"{base}/api/v1/files/{detail['files'][0]['id']}/url", timeout=10).json()[
        "url"
    ]
    page = opened(browser, live, viewport)
    pages.append(page)
    response = page.goto(re.sub(r"signature=[0-9a-f]{4}", "signature=0000", url))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This download link is not valid")
    expect(page.locator("#fresh-link")).to_have_attribute("href", f"/datasets/{open_set['id']}")
    fits(page, viewport)
