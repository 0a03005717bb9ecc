"""Each role lands on its work: a "my work" page of what waits for me, counted in the header,
and where signing in from the front page ends."""

from __future__ import annotations

import re

import requests

from tests.agreements import accept_over_http
from tests.conftest import DemoInstance, csrf_header, sign_in
from tests.html_forms import form_with_field
from tests.request_pages import STATEMENT, file_draft, post_form


def work(browser: requests.Session, base: str) -> dict[str, int]:
    """The page's sections with their counts, and the header's count under "header"."""
    page = browser.get(f"{base}/work", timeout=10)
    assert page.status_code == 200, page.text
    sections = {
        name: int(count)
        for name, count in re.findall(
            r'<section class="work" id="([a-z-]+)">\s*<h2>[^<]*'
            r'<span class="count-inline">\((\d+)\)',
            page.text,
        )
    }
    header = re.search(r'id="my-work-link">My work <span class="count">(\d+)<', page.text)
    return {**sections, "header": int(header.group(1)) if header else 0}


def test_each_role_sees_what_waits_for_it_and_the_header_counts_it(
    live: DemoInstance,
) -> None:
    base = live.base_url
    researcher = sign_in(base, "researcher")
    assert work(researcher, base) == {"header": 0}
    filed = post_form(
        researcher,
        base,
        "/requests/new",
        "/requests/new",
        title="Ageing eQTLs",
        research_use_statement=STATEMENT,
        dataset_ids="1",
        collaborator_emails="researcher2@demo.example",
    )
    path = filed.url.removeprefix(base)
    assert work(researcher, base) == {"to-submit": 1, "header": 1}
    assert work(sign_in(base, "researcher2"), base) == {"to-accept": 1, "header": 1}
    post_form(researcher, base, path, f"{path}/submit")
    assert work(researcher, base) == {"header": 0}

    official = sign_in(base, "signing-official")
    assert work(official, base) == {"to-endorse": 1, "header": 1}
    post_form(official, base, path, f"{path}/endorse")
    assert work(official, base) == {"header": 0}

    member, chair = sign_in(base, "dac-member"), sign_in(base, "dac-chair")
    assert work(member, base) == {"to-vote": 1, "header": 1}
    assert work(chair, base) == {"to-vote": 1, "to-decide": 1, "header": 2}
    post_form(member, base, path, f"{path}/vote", vote="approve", rationale="Fits GRU.")
    assert work(member, base) == {"header": 0}
    post_form(chair, base, path, f"{path}/decide", decision="return", questions="Which tissues?")
    assert work(chair, base) == {"header": 0}
    assert work(researcher, base) == {"to-answer": 1, "header": 1}


def test_agreements_to_accept_and_access_ending_within_a_month_are_listed(
    live: DemoInstance,
) -> None:
    base = live.base_url
    researcher = sign_in(base, "researcher")
    filed = file_draft(researcher, base, title="Short project")
    path = filed.url.removeprefix(base)
    post_form(researcher, base, path, f"{path}/submit")
    post_form(sign_in(base, "signing-official"), base, path, f"{path}/endorse")
    post_form(
        sign_in(base, "dac-chair"),
        base,
        path,
        f"{path}/decide",
        decision="approve",
        reason="Fine.",
        days="20",
    )
    page = researcher.get(f"{base}/work", timeout=10).text
    assert "Access ending soon" in page and "Short project" in page.split('id="ending-soon"')[1]
    assert 'href="/datasets/1/agreement"' in page.split('id="agreements"')[1]
    assert work(researcher, base) == {"agreements": 1, "ending-soon": 1, "header": 2}
    accept_over_http(researcher, base, 1, headers=csrf_header(researcher, base))
    assert work(researcher, base) == {"ending-soon": 1, "header": 1}


def test_signing_in_from_the_front_page_lands_on_my_work(live: DemoInstance) -> None:
    base = live.base_url
    browser = requests.Session()
    login_page = browser.get(f"{base}/auth/login?next=/", timeout=10)
    form = form_with_field(login_page.text, login_page.url, "username")
    form.fields["username"] = "signing-official"
    landed = browser.post(form.action, data=form.fields, timeout=10)
    assert landed.url == f"{base}/work" and "<h1>My work</h1>" in landed.text


def test_my_work_needs_a_signed_in_user(live: DemoInstance) -> None:
    answer = requests.get(f"{live.base_url}/work", timeout=10, allow_redirects=False)
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]
