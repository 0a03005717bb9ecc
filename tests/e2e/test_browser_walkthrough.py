"""The README's demo walk-through in a real browser: headless Debian Chromium via Playwright.

The browser signs in through the embedded IdP's page, fills and submits the request forms,
approves as the committee chair, and downloads through the signed URL the Download button
leads to. `make system-packages` installs /usr/bin/chromium; never `playwright install`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from playwright.sync_api import Locator, Page, expect

from tests.conftest import DemoInstance, csrf_header, sign_in

SETTLED_MS = 2_000  # for checks on a page that has finished loading: nothing will change
TITLE = "Ageing eQTLs in the browser"
STATEMENT = "We study tissue-specific regulation of gene expression in ageing adults."
REASON = "Consistent with GRU consent."


# --- catalogue facts, from the JSON API the pages must agree with ---------------------------


def dataset_of_tier(base: str, tier: str) -> dict[str, Any]:
    listed = requests.get(f"{base}/api/v1/datasets", timeout=10).json()["datasets"]
    summary = next(d for d in listed if d["tier"] == tier)
    detail: dict[str, Any] = requests.get(
        f"{base}/api/v1/datasets/{summary['id']}", timeout=10
    ).json()
    return detail


def genotype_file(dataset: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in dataset["files"] if f["kind"] == "genotype")
    return found


# --- what a person does in the browser -------------------------------------------------------


def browser_sign_in(page: Page, username: str) -> None:
    """Click the header's "Sign in", pick the persona on the IdP's page, land back where we were."""
    before = page.url
    page.locator("header").get_by_role("link", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dev-idp/authorize\?"))
    expect(page.get_by_role("heading", name="Sign in as a demo persona")).to_be_visible()
    page.locator("form.dev-idp-login input[name=username]").fill(username)
    page.locator("form.dev-idp-login").get_by_role("button", name="Sign in").click()
    # From the front page one lands on "my work"; from any other page, back on it.
    page.wait_for_url(before + "work" if urlsplit(before).path == "/" else before)
    expect(page.locator("header .who")).not_to_be_empty()
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_be_visible()


def click_and_load(page: Page, target: Locator) -> None:
    """Click a submit button or link and wait for the page it leads to (even the same URL)."""
    with page.expect_navigation():
        target.click()
    refusals = page.locator(".flash-error").all_inner_texts()
    assert not refusals, f"{page.url} says: {refusals}"


def expect_state(page: Page, state: str) -> None:
    expect(page.locator("#request-state")).to_have_attribute(
        "data-state", state, timeout=SETTLED_MS
    )


def browser_sign_out(page: Page, base: str) -> None:
    click_and_load(page, page.locator("header").get_by_role("button", name="Sign out"))
    assert page.url == f"{base}/"
    expect(page.locator("header").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.locator("header .who")).to_have_count(0)


def file_row(page: Page, name: str) -> Locator:
    return page.locator("table.files tbody tr").filter(has_text=name)


def download_and_hash(page: Page, file_name: str) -> tuple[str, str]:
    """Click the file's Download button; returns (suggested filename, SHA-256 of the bytes)."""
    with page.expect_download() as info:
        file_row(page, file_name).get_by_role("button", name="Download").click()
    download = info.value
    assert download.failure() is None, download.failure()
    assert "/storage/" in download.url and "signature=" in download.url, download.url
    saved = download.path()
    return download.suggested_filename, hashlib.sha256(saved.read_bytes()).hexdigest()


def approve_through_api(base: str, dataset_id: int) -> None:
    """Researcher files and submits, the signing official endorses, the chair approves for 30
    days (the API, not the pages)."""
    researcher = sign_in(base, "researcher")
    headers = csrf_header(researcher, base)
    filed = researcher.post(
        f"{base}/api/v1/requests",
        headers=headers,
        timeout=10,
        json={"title": TITLE, "research_use_statement": STATEMENT, "dataset_ids": [dataset_id]},
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    submitted = researcher.post(
        f"{base}/api/v1/requests/{request_id}/submit", headers=headers, timeout=10
    )
    assert submitted.status_code == 200, submitted.text
    official = sign_in(base, "signing-official")
    endorsed = official.post(
        f"{base}/api/v1/requests/{request_id}/endorse",
        headers=csrf_header(official, base),
        timeout=10,
    )
    assert endorsed.status_code == 200, endorsed.text
    chair = sign_in(base, "dac-chair")
    approved = chair.post(
        f"{base}/api/v1/requests/{request_id}/approve",
        headers=csrf_header(chair, base),
        timeout=10,
        json={"reason": REASON, "days": 30},
    )
    assert approved.status_code == 200, approved.text


def researcher_downloads_with_grant(
    page: Page, live: DemoInstance, controlled: dict[str, Any]
) -> None:
    """As `researcher` holding a 30-day grant: the end date shows, the genotype downloads intact."""
    base = live.base_url
    dataset_path = f"/datasets/{controlled['id']}"
    genotype = genotype_file(controlled)
    page.goto(dataset_path)
    browser_sign_in(page, "researcher")
    ends = (live.clock.now() + timedelta(days=30)).strftime("%Y-%m-%d")  # the clock stands still
    expect(page.locator("section.access-status")).to_contain_text(
        f"You hold access to this dataset until {ends}."
    )
    expect(page.get_by_role("link", name="Request access")).to_have_count(0)
    # No Download button until the data-use agreement is read and accepted.
    expect(page.locator("table.files").get_by_role("button", name="Download")).to_have_count(0)
    click_and_load(page, page.get_by_role("link", name="Read and accept the agreement"))
    expect(page.locator("pre.agreement-text")).to_contain_text("Data-use agreement")
    click_and_load(page, page.get_by_role("button", name="Accept version 1"))
    expect(page).to_have_url(f"{base}{dataset_path}")
    expect(page.locator("section.agreement-status")).to_contain_text("You accepted version 1")
    expect(page.locator("table.files").get_by_role("button", name="Download")).to_have_count(
        len(controlled["files"])
    )
    expect(file_row(page, genotype["name"])).to_contain_text(genotype["sha256"])
    filename, digest = download_and_hash(page, genotype["name"])
    assert filename == genotype["name"]
    assert digest == genotype["sha256"]
    expect(page).to_have_url(f"{base}{dataset_path}")  # a download, not a navigation


# --- tests -----------------------------------------------------------------------------------


def test_readme_walkthrough_request_approve_download(page: Page, live: DemoInstance) -> None:
    base = live.base_url
    controlled = dataset_of_tier(base, "controlled")
    genotype = genotype_file(controlled)
    dataset_path = f"/datasets/{controlled['id']}"

    # The researcher finds the controlled dataset from the catalogue and has no Download yet.
    page.goto("/")
    browser_sign_in(page, "researcher")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    page.locator("header").get_by_role("link", name="Catalogue").click()
    page.get_by_role("link", name=controlled["name"]).click()
    page.wait_for_url(f"{base}{dataset_path}")
    expect(page.get_by_role("heading", level=1)).to_have_text(controlled["name"])
    expect(page.locator("section.data-use")).to_contain_text("GRU")
    expect(file_row(page, genotype["name"])).to_contain_text(genotype["sha256"])
    expect(page.locator("table.files").get_by_role("button", name="Download")).to_have_count(0)

    # Request access: the form comes with this dataset ticked.
    page.get_by_role("link", name="Request access").click()
    page.wait_for_url(re.compile(rf"/requests/new\?dataset={controlled['id']}$"))
    checkbox = page.locator(f"input[name=dataset_ids][value='{controlled['id']}']")
    expect(checkbox).to_be_checked()
    page.get_by_label("Project title").fill(TITLE)
    page.get_by_label("Research-use statement").fill(STATEMENT)
    click_and_load(page, page.get_by_role("button", name="Save draft"))
    assert re.fullmatch(rf"{re.escape(base)}/requests/\d+", page.url), page.url
    request_path = page.url.removeprefix(base)
    expect_state(page, "draft")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    click_and_load(page, page.get_by_role("button", name="Submit"))
    assert page.url == f"{base}{request_path}"
    expect_state(page, "submitted")
    expect(page.get_by_role("button", name="Submit")).to_have_count(0)
    browser_sign_out(page, base)

    # The signing official of the researcher's institution endorses it.
    browser_sign_in(page, "signing-official")
    page.locator("header").get_by_role("link", name="Requests").click()
    page.wait_for_url(f"{base}/requests")
    pending = page.locator("#endorsement-queue tbody tr").filter(has_text=TITLE)
    expect(pending).to_have_count(1)
    pending.get_by_role("link", name=TITLE).click()
    page.wait_for_url(f"{base}{request_path}")
    click_and_load(page, page.get_by_role("button", name="Endorse"))
    expect_state(page, "endorsed")
    browser_sign_out(page, base)

    # The chair finds it in the review queue and approves it for 30 days.
    browser_sign_in(page, "dac-chair")
    page.locator("header").get_by_role("link", name="Requests").click()
    page.wait_for_url(f"{base}/requests")
    queued = page.locator("#review-queue tbody tr").filter(has_text=TITLE)
    expect(queued).to_have_count(1)
    queued.get_by_role("link", name=TITLE).click()
    page.wait_for_url(f"{base}{request_path}")
    expect_state(page, "endorsed")
    panel = page.locator("#decision-panel")
    panel.get_by_label("Approve, for the period below").check()
    panel.get_by_label("Reason, to approve or reject").fill(REASON)
    panel.get_by_label("Approval period in days").fill("30")
    click_and_load(page, panel.get_by_role("button", name="Record the decision"))
    assert page.url == f"{base}{request_path}"
    expect_state(page, "approved")
    expect(page.locator(".flash-success")).to_contain_text("The request is approved")
    expect(page.locator("dl.facts")).to_contain_text(f"for 30 days: {REASON}")
    expect(page.locator("#decision-panel form")).to_have_count(0)
    browser_sign_out(page, base)

    # The researcher sees the grant's end date and downloads the exact bytes.
    researcher_downloads_with_grant(page, live, controlled)


def test_without_grant_only_open_files_download_and_open_ones_need_no_sign_in(
    page: Page,
    live: DemoInstance,
) -> None:
    base = live.base_url
    controlled = dataset_of_tier(base, "controlled")
    open_set = dataset_of_tier(base, "open")
    assert all(f["tier"] == "controlled" for f in controlled["files"])
    assert open_set["files"]

    page.goto(f"/datasets/{controlled['id']}")
    browser_sign_in(page, "researcher2")
    expect(page.locator("table.files tbody tr")).to_have_count(len(controlled["files"]))
    expect(page.locator("table.files").get_by_role("button", name="Download")).to_have_count(0)
    expect(page.get_by_role("link", name="Request access")).to_be_visible()

    page.goto(f"/datasets/{open_set['id']}")
    expect(page.locator("section.data-use")).to_contain_text("Open access")
    expect(page.locator("table.files").get_by_role("button", name="Download")).to_have_count(
        len(open_set["files"])
    )
    expect(page.get_by_role("link", name="Request access")).to_have_count(0)

    browser_sign_out(page, base)
    page.goto(f"/datasets/{open_set['id']}")
    expect(page.locator("table.files").get_by_role("button", name="Download")).to_have_count(
        len(open_set["files"])
    )
    wanted = open_set["files"][0]
    filename, digest = download_and_hash(page, wanted["name"])
    assert filename == wanted["name"]
    assert digest == wanted["sha256"]

    # Signed out, the controlled dataset offers sign-in, not downloads.
    page.goto(f"/datasets/{controlled['id']}")
    expect(page.locator("table.files").get_by_role("button", name="Download")).to_have_count(0)
    access_status = page.locator("section.access-status")
    expect(access_status.get_by_role("link", name="Sign in")).to_be_visible()


def test_screenshot_of_dataset_page_after_approval(
    page: Page,
    live: DemoInstance,
    tmp_path: Path,
) -> None:
    base = live.base_url
    controlled = dataset_of_tier(base, "controlled")
    approve_through_api(base, controlled["id"])

    researcher_downloads_with_grant(page, live, controlled)
    shot = tmp_path / "dataset-after-approval.png"
    page.screenshot(path=str(shot), full_page=True)
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 10_000, len(png)  # a blank page compresses to a few hundred bytes


def test_review_and_admin_pages_load_without_csp_violations(page: Page, live: DemoInstance) -> None:
    """The committee's review page and the admin pages render with nothing the CSP
    (default-src 'self') refuses: no inline script or style anywhere."""
    base = live.base_url
    controlled = dataset_of_tier(base, "controlled")
    researcher = sign_in(base, "researcher")
    headers = csrf_header(researcher, base)
    filed = researcher.post(
        f"{base}/api/v1/requests",
        headers=headers,
        timeout=10,
        json={
            "title": TITLE,
            "research_use_statement": STATEMENT,
            "dataset_ids": [controlled["id"]],
            "collaborator_emails": ["researcher2@demo.example"],
        },
    ).json()
    researcher.post(f"{base}/api/v1/requests/{filed['id']}/submit", headers=headers, timeout=10)
    official = sign_in(base, "signing-official")
    official.post(
        f"{base}/api/v1/requests/{filed['id']}/endorse",
        headers=csrf_header(official, base),
        timeout=10,
    )

    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto("/")
    browser_sign_in(page, "dac-chair")
    page.goto(f"/requests/{filed['id']}")
    expect_state(page, "endorsed")
    expect(page.locator("#duo-match")).to_have_count(1)
    vote_form = page.locator("#vote-form")
    vote_form.get_by_label("Approve").check()
    vote_form.get_by_label("Rationale").fill("Fits the GRU consent.")
    click_and_load(page, vote_form.get_by_role("button", name="Record my vote"))
    expect_state(page, "under_review")
    expect(page.locator("#votes")).to_contain_text("Fits the GRU consent.")
    committee_link = page.locator("header").get_by_role("link", name="Requests")
    click_and_load(page, committee_link)
    click_and_load(page, page.get_by_role("link", name=re.compile("queue")))
    expect(page.locator("#committee-queue")).to_contain_text(TITLE)
    browser_sign_out(page, base)

    browser_sign_in(page, "admin")
    for path in ("/admin/committees", "/admin/users"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert not problems, problems
