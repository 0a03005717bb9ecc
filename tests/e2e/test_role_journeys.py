"""Each role's journey in Chromium, at desktop width and at 390 px: what every step tells the
person, and axe-core over every page of the way (0 critical, 0 serious violations).

One live demo serves the whole module (the journeys file their own requests, each with a
title naming its width, so they share it without seeing each other's work). The other
browser tests pin the states and the layout; these pin the words a person reads and that
every page stays usable by keyboard and screen reader.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, expect

from app import create_app
from config import load_settings
from core.clock import MovableClock
from tests.conftest import DemoInstance, csrf_header, serving, sign_in
from tests.e2e.axe import assert_accessible
from tests.e2e.browser import DESKTOP, PHONE, TIMEOUT_MS, open_menu_if_folded, sign_in_from_header
from tests.request_pages import STATEMENT

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}

# The words and the markup do not depend on the database, and the other browser tests run
# on both: once, on SQLite, keeps this module within its few minutes.
pytestmark = pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def site(
    demo_template: tuple[object, str | None],
    demo_port: int,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[DemoInstance]:
    """The demo, copied from the session's template and served once for the module."""
    template_dir, template_db = demo_template
    instance = tmp_path_factory.mktemp("journeys") / "instance"
    shutil.copytree(str(template_dir), instance)
    database_url = None
    name = f"j_{uuid.uuid4().hex[:12]}"
    if template_db is not None:
        from tests.postgres import create_database

        database_url = create_database(request.getfixturevalue("postgres_server"), name,
                                       template=template_db)
    # The module signs in some fifty times within a couple of minutes, from one address.
    overrides = {"ENV": "demo", "INSTANCE_DIR": str(instance),
                 "PUBLIC_URL": f"http://127.0.0.1:{demo_port}",
                 "RATE_LIMIT_SIGN_IN": "1000/minute", "RATE_LIMIT_DEV_IDP": "1000/minute"}
    if database_url is not None:
        overrides["DATABASE_URL"] = database_url
    settings = load_settings(environ={}, overrides=overrides)
    clock = MovableClock()
    app = create_app(settings, clock=clock)
    with serving(DemoInstance(app, clock, settings, settings.public_url)) as served:
        yield served
    app.extensions["custodian.engine"].dispose()
    if template_db is not None:
        from tests.postgres import drop_database

        drop_database(request.getfixturevalue("postgres_server"), name)


@pytest.fixture(params=list(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    chosen: str = request.param
    return chosen


@pytest.fixture
def page(browser: Browser, site: DemoInstance, width: str) -> Iterator[Page]:
    context = browser.new_context(base_url=site.base_url, viewport=WIDTHS[width],
                                  accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


# --- what every page of a journey must be -------------------------------------------------


def checked(page: Page) -> None:
    """Usable: no critical or serious axe violation, and no wider than the screen."""
    viewport = page.viewport_size
    assert viewport is not None
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= viewport["width"], f"{page.url} is {wide} px wide"
    assert_accessible(page)


def go(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response)
    checked(page)


def click_and_load(page: Page, target: Locator) -> None:
    with page.expect_navigation():
        target.click()
    checked(page)


def header_link(page: Page, name: str) -> Locator:
    """The header's link starting with ``name`` (My work carries a count after it)."""
    open_menu_if_folded(page)
    return page.locator("header").get_by_role("link", name=re.compile(f"^{re.escape(name)}"))


def said(page: Page) -> Locator:
    return page.locator(".flash-success")


def request_link(page: Page, section: str, title: str) -> Locator:
    return page.locator(section).get_by_role("link", name=re.compile(re.escape(title)))


# --- requests set up through the API, each journey its own -------------------------------


def submitted_request(base: str, title: str) -> int:
    researcher = sign_in(base, "researcher")
    headers = csrf_header(researcher, base)
    filed = researcher.post(
        f"{base}/api/v1/requests", headers=headers, timeout=10,
        json={"title": title, "research_use_statement": STATEMENT, "dataset_ids": [1]},
    )
    assert filed.status_code == 201, filed.text
    request_id: int = filed.json()["id"]
    submitted = researcher.post(f"{base}/api/v1/requests/{request_id}/submit",
                                headers=headers, timeout=10)
    assert submitted.status_code == 200, submitted.text
    return request_id


def endorsed_request(base: str, title: str) -> int:
    request_id = submitted_request(base, title)
    official = sign_in(base, "signing-official")
    endorsed = official.post(
        f"{base}/api/v1/requests/{request_id}/endorse", headers=csrf_header(official, base),
        timeout=10, json={"comment": "Known to us; well supervised."},
    )
    assert endorsed.status_code == 200, endorsed.text
    return request_id


# --- the journeys ----------------------------------------------------------------------------


def test_the_open_results_visitor_finds_a_gene_without_signing_in(
    page: Page, site: DemoInstance
) -> None:
    go(page, "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    click_and_load(page, header_link(page, "Open results"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Open results")
    expect(page.locator(".lead")).to_contain_text("no sign-in or request needed")
    tissue = page.locator(".tissue-list a").first
    tissue_name = tissue.inner_text()
    click_and_load(page, tissue)
    expect(page.get_by_role("heading", level=1)).to_contain_text(tissue_name)
    # A partial name lists the genes it may mean; the well-known one has its eQTLs.
    page.get_by_label("Gene or variant").fill("AL")
    click_and_load(page, page.get_by_role("button", name="Search"))
    suggestions = page.locator("section.gene-suggestions")
    expect(suggestions.get_by_role("heading")).to_have_text("Genes matching “AL”")
    click_and_load(page, suggestions.get_by_role("link", name="ALB", exact=True))
    expect(page.get_by_role("heading", level=1)).to_contain_text("ALB")
    expect(page.get_by_role("img", name="Median TPM of ALB in each tissue")).to_be_visible()
    expect(page.locator("#eqtls tbody tr")).not_to_have_count(0)

    # The open dataset downloads with no sign-in; the controlled one asks for it.
    go(page, "/datasets/2")
    expect(page.locator("section.data-use")).to_contain_text("Open access")
    # A download link spoilt in transit opens a page that says so and leads back.
    files = requests.get(f"{site.base_url}/api/v1/datasets/2", timeout=10).json()["files"]
    url = requests.get(f"{site.base_url}/api/v1/files/{files[0]['id']}/url",
                       timeout=10).json()["url"]
    response = page.goto(re.sub(r"signature=[0-9a-f]{4}", "signature=0000", url))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This download link is not valid")
    checked(page)
    click_and_load(page, page.locator("#fresh-link"))
    expect(page).to_have_url(f"{site.base_url}/datasets/2")
    go(page, "/datasets/1")
    expect(page.locator("section.access-status").get_by_role("link", name="Sign in")) \
        .to_be_visible()
    expect(header_link(page, "Sign in")).to_be_visible()


def test_the_researcher_files_a_request_and_is_told_who_has_it(
    page: Page, site: DemoInstance, width: str
) -> None:
    title = f"Researcher journey ({width})"
    go(page, "/")
    sign_in_from_header(page, "researcher")
    expect(page).to_have_url(f"{site.base_url}/work")
    checked(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")

    click_and_load(page, header_link(page, "Catalogue"))
    click_and_load(page, page.locator("a[href='/datasets/1']").first)
    expect(page.locator("section.data-use")).to_contain_text("GRU")
    click_and_load(page, page.get_by_role("link", name="Request access"))
    # Saved empty: every problem is named beside its field, and that page is usable too.
    click_and_load(page, page.get_by_role("button", name="Save draft"))
    expect(page.locator("#title-error")).to_be_visible()
    expect(page.locator("#research_use_statement-error")).to_be_visible()
    page.get_by_label("Project title").fill(title)
    page.get_by_label("Research-use statement").fill(STATEMENT)
    click_and_load(page, page.get_by_role("button", name="Save draft"))
    expect(said(page)).to_have_text("Request saved as a draft. Submit it when it is ready.")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "draft")
    expect(page.locator("#next-step")).to_contain_text("With you.")

    click_and_load(page, page.get_by_role("button", name="Submit"))
    expect(said(page)).to_contain_text("Your request is submitted. It now waits for the "
                                       "signing official of")
    expect(page.locator("ol.tracker [aria-current=step]")).to_contain_text("Signing official")
    expect(page.locator("#next-step")).to_contain_text(
        "With the signing official of Demo University. Endorse the request")
    expect(page.locator("#timeline")).to_contain_text("submitted")

    # Nothing waits for the researcher now; the list says where the request is.
    click_and_load(page, header_link(page, "Requests"))
    expect(page.locator("table").filter(has_text=title)).to_have_count(1)

    # A personal API token is shown once, and named as such.
    click_and_load(page, header_link(page, "API tokens"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Personal API tokens")
    page.get_by_label("Name").fill(f"laptop {width}")
    click_and_load(page, page.get_by_role("button", name="Create token"))
    expect(page.locator(".token-once")).to_contain_text("copy it now; it will not be shown again")
    row = page.locator("#tokens tbody tr").filter(has_text=f"laptop {width}")
    expect(row).to_contain_text("active")

    # Revoking asks first, on a page of its own, and then says what it did.
    click_and_load(page, row.get_by_role("button", name="Revoke"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Revoke the API token 'laptop {width}'?")
    click_and_load(page, page.get_by_role("button", name="Yes, revoke it"))
    expect(said(page)).to_have_text(f"Token 'laptop {width}' revoked: it no longer works.")
    expect(row).to_contain_text("revoked")


def test_the_signing_official_lands_on_what_to_endorse_and_endorses(
    page: Page, site: DemoInstance, width: str
) -> None:
    title = f"Endorsement journey ({width})"
    request_id = submitted_request(site.base_url, title)
    go(page, "/")
    sign_in_from_header(page, "signing-official")
    expect(page).to_have_url(f"{site.base_url}/work")
    checked(page)
    expect(page.locator("#to-endorse .hint")).to_contain_text("endorse each request or decline")
    expect(page.locator("#to-endorse")).to_contain_text("Riley Researcher")
    click_and_load(page, request_link(page, "#to-endorse", title))
    expect(page).to_have_url(f"{site.base_url}/requests/{request_id}")
    expect(page.locator("#next-step")).to_contain_text("With you.")
    page.get_by_label("Comment for the committee (optional)").fill("Known to us; supervised.")
    click_and_load(page, page.get_by_role("button", name="Endorse"))
    expect(said(page)).to_have_text(
        "You endorsed the request. It now goes to the data-access committee.")
    expect(page.locator("#timeline")).to_contain_text(
        "Sam Official (signing official) endorsed the request")
    expect(page.locator("#timeline")).to_contain_text("Known to us; supervised.")
    expect(page.locator("ol.tracker [aria-current=step]")).to_contain_text("Committee review")

    click_and_load(page, header_link(page, "My work"))
    expect(request_link(page, "main", title)).to_have_count(0)


def test_the_member_votes_and_is_told_the_chair_decides(
    page: Page, site: DemoInstance, width: str
) -> None:
    title = f"Vote journey ({width})"
    endorsed_request(site.base_url, title)
    go(page, "/")
    sign_in_from_header(page, "dac-member")
    checked(page)
    expect(page.locator("#to-vote .hint")).to_contain_text("then vote with your rationale")
    click_and_load(page, request_link(page, "#to-vote", title))
    panel = page.locator("#decision-panel")
    expect(panel.locator("#so-comment")).to_contain_text("Known to us; well supervised.")
    expect(panel.locator("#duo-match")).to_have_count(1)
    for choice in panel.locator("input[name=vote]").all():
        expect(choice).not_to_be_checked()
    vote = page.locator("#vote-form")
    vote.get_by_label("Approve").check()
    vote.get_by_label("Rationale").fill(f"Fits the GRU consent ({width}).")
    click_and_load(page, vote.get_by_role("button", name="Record my vote"))
    expect(said(page)).to_have_text(
        "Your vote is recorded. The chair decides once the committee has voted.")
    expect(page.locator("#votes")).to_contain_text(f"Fits the GRU consent ({width}).")
    expect(page.locator("#vote-tally")).to_contain_text("1 of 2 members voted")

    # The committee's queue shows the request, with its place in the workflow.
    click_and_load(page, header_link(page, "Requests"))
    click_and_load(page, page.get_by_role("link", name=re.compile("queue")).first)
    expect(page.locator("#committee-queue")).to_contain_text(title)


def test_the_chair_returns_a_request_with_questions_and_the_researcher_is_asked(
    page: Page, site: DemoInstance, width: str
) -> None:
    title = f"Decision journey ({width})"
    request_id = endorsed_request(site.base_url, title)
    go(page, "/")
    sign_in_from_header(page, "dac-chair")
    checked(page)
    expect(page.locator("#to-decide .hint")).to_contain_text(
        "approve with a period, reject, or return with questions")
    click_and_load(page, request_link(page, "#to-decide", title))
    panel = page.locator("#decision-panel")
    expect(panel.locator("#vote-tally")).to_contain_text("members voted")
    panel.get_by_label("Return to the applicant with the questions below").check()
    panel.get_by_label("Questions, to return (one per line)").fill(
        "Which tissues will you study?")
    click_and_load(page, panel.get_by_role("button", name="Record the decision"))
    expect(said(page)).to_have_text("The request went back to the applicant with your questions.")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "returned")
    expect(page.locator("#timeline")).to_contain_text("Dana Chair (committee chair)")
    expect(page.locator("#timeline")).to_contain_text("Which tissues will you study?")

    # The researcher is asked, answers, and submits again.
    page.context.clear_cookies()
    go(page, "/")
    sign_in_from_header(page, "researcher")
    checked(page)
    expect(page.locator("#to-answer .hint")).to_contain_text("answer them, then submit it again")
    click_and_load(page, request_link(page, "#to-answer", title))
    expect(page).to_have_url(f"{site.base_url}/requests/{request_id}")
    expect(page.locator("#submit-blocked")).to_be_visible()
    page.get_by_label("Which tissues will you study?").fill("Liver and whole blood.")
    click_and_load(page, page.get_by_role("button", name="Save answers"))
    expect(said(page)).to_have_text(
        "Your answers are saved. Submit the request again when it is ready.")
    click_and_load(page, page.get_by_role("button", name="Submit"))
    expect(said(page)).to_contain_text("Your request is submitted.")


def test_the_auditor_reads_the_log_reports_and_alerts(
    page: Page, site: DemoInstance, width: str
) -> None:
    submitted_request(site.base_url, f"Audited journey ({width})")
    go(page, "/")
    sign_in_from_header(page, "auditor")
    checked(page)
    go(page, "/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    page.get_by_label("Action").fill("request:submit")
    click_and_load(page, page.get_by_role("button", name="Search"))
    rows = page.locator("table.audit-events tbody tr")
    expect(rows.first).to_contain_text("request:submit")
    click_and_load(page, rows.first.locator("a").first)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Audit event")
    go(page, "/audit/verification")
    expect(page.get_by_role("heading", level=1)).to_have_text("Verification")
    click_and_load(page, page.get_by_role("button", name="Check the log"))
    expect(said(page)).to_contain_text("Intact:")
    expect(page.locator("dl.last-check")).to_contain_text("intact")
    go(page, "/audit/reports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Access reports")
    go(page, "/audit/downloads")
    expect(page.get_by_role("heading", level=1)).to_have_text("Downloads over time")
    go(page, "/audit/alerts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")


def test_the_admin_invites_a_person_and_manages_a_committee(
    page: Page, site: DemoInstance, width: str
) -> None:
    title = f"Admin journey ({width})"
    submitted_request(site.base_url, title)
    go(page, "/")
    sign_in_from_header(page, "admin")
    checked(page)

    # Every request, filtered down to the one that waits for its signing official.
    go(page, "/admin/requests")
    filters = page.locator("#request-filters")
    filters.get_by_label("State").select_option("submitted")
    filters.get_by_label("Applicant").fill("Riley")
    click_and_load(page, filters.get_by_role("button", name="Filter"))
    row = page.locator("#all-requests tbody tr").filter(has_text=title)
    expect(row).to_contain_text("submitted")
    expect(row).to_contain_text("Riley Researcher")
    expect(page.locator("#all-requests tbody tr .state-draft")).to_have_count(0)
    click_and_load(page, row.get_by_role("link", name=title))
    expect(page.locator("#next-step")).to_contain_text("With the signing official")

    go(page, "/admin/requests")
    click_and_load(page, page.get_by_role("navigation", name="Administration")
                   .get_by_role("link", name="Users and roles"))
    invite = page.locator("#invite")
    email = f"new-{width}@demo.example"
    invite.get_by_label("Email").fill(email)
    invite.get_by_label("Role").select_option("auditor")
    click_and_load(page, invite.get_by_role("button", name="Invite"))
    expect(said(page)).to_contain_text(email)
    expect(page.locator("#users")).to_contain_text(email)

    # Every row's role picker is named after its person (it used to have no label at all).
    researcher2 = page.locator("#users tbody tr").filter(has_text="researcher2@")
    researcher2.get_by_label(re.compile("Role to give")).select_option("auditor")
    click_and_load(page, researcher2.get_by_role("button", name="Give"))
    expect(said(page)).to_have_text("Role given.")

    go(page, "/admin/committees")
    click_and_load(page, page.locator("main a[href^='/admin/committees/']").first)
    expect(page.locator("#members tbody tr")).not_to_have_count(0)
    go(page, "/admin/catalogue")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

