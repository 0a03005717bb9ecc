"""The pages of every role, driven over HTTP with the forms the pages themselves serve."""

from __future__ import annotations

import re

from tests.agreements import accept_over_http
from tests.conftest import DemoInstance, csrf_header, sign_in
from tests.html_forms import forms_in
from tests.request_pages import STATEMENT, confirm, file_draft, post_form, state_on_page


def test_every_role_walks_the_request_through_its_pages(live: DemoInstance) -> None:
    base = live.base_url
    researcher = sign_in(base, "researcher")
    filed = post_form(
        researcher,
        base,
        "/requests/new",
        "/requests/new",
        title="Ageing eQTLs",
        research_use_statement=STATEMENT,
        non_technical_summary="How genes age.",
        purpose_disease_ids="MONDO:0005148, MONDO:0004975",
        purpose_health_medical="on",
        dataset_ids="1",
        collaborator_emails="researcher2@demo.example",
    )
    request_path = filed.url.removeprefix(base)
    assert re.fullmatch(r"/requests/\d+", request_path)
    assert "MONDO:0005148, MONDO:0004975" in filed.text
    assert "health/medical/biomedical" in filed.text
    submitted = post_form(researcher, base, request_path, f"{request_path}/submit")
    assert state_on_page(submitted.text) == "submitted"

    official = sign_in(base, "signing-official")
    assert request_path in official.get(f"{base}/requests", timeout=10).text
    endorsed = post_form(official, base, request_path, f"{request_path}/endorse")
    assert state_on_page(endorsed.text) == "endorsed"

    member = sign_in(base, "dac-member")
    queue = member.get(f"{base}/requests", timeout=10).text
    assert 'id="review-queue"' in queue and request_path in queue
    voted = post_form(
        member,
        base,
        request_path,
        f"{request_path}/vote",
        vote="approve",
        rationale="Fits the GRU consent.",
    )
    assert state_on_page(voted.text) == "under_review"
    assert "Fits the GRU consent." in voted.text and 'id="duo-match"' in voted.text
    # The data-use match: the GRU consent group meets a disease-specific purpose.
    assert "Automatic data-use match" in voted.text
    assert re.search(
        r'class="duo-approve">\s*<td>[^<]+</td>\s*<td><strong>APPROVE</strong>', voted.text
    ), voted.text
    assert 'id="duo-match"' not in submitted.text  # reviewers only

    chair = sign_in(base, "dac-chair")
    returned = post_form(
        chair,
        base,
        request_path,
        f"{request_path}/decide",
        decision="return",
        questions="Which tissues?\nHow long will you keep the data?",
    )
    assert state_on_page(returned.text) == "returned"

    page = researcher.get(f"{base}{request_path}", timeout=10).text
    assert "Fits the GRU consent." not in page  # votes stay with the committee
    answers = {
        f"answer-{qid}": "Liver; two years." for qid in re.findall(r'name="answer-(\d+)"', page)
    }
    assert len(answers) == 2
    post_form(researcher, base, request_path, f"{request_path}/answer", **answers)
    revised = post_form(
        researcher,
        base,
        f"{request_path}/edit",
        f"{request_path}/revise",
        title="Ageing eQTLs, revised",
        research_use_statement=STATEMENT,
        cloud_use_statement="No cloud.",
        purpose_health_medical="on",
    )
    assert "Ageing eQTLs, revised" in revised.text and "No cloud." in revised.text
    post_form(researcher, base, request_path, f"{request_path}/submit")
    post_form(official, base, request_path, f"{request_path}/endorse")
    approved = post_form(
        chair,
        base,
        request_path,
        f"{request_path}/decide",
        decision="approve",
        reason="Consistent with GRU consent.",
        days="30",
    )
    assert state_on_page(approved.text) == "approved"
    assert "for 30 days: Consistent with GRU consent." in approved.text

    collaborator = sign_in(base, "researcher2")
    assert request_path in collaborator.get(f"{base}/requests", timeout=10).text
    post_form(collaborator, base, request_path, f"{request_path}/accept")
    blocked = collaborator.get(f"{base}/api/v1/files/1/url", timeout=10)
    assert blocked.status_code == 403  # each holder accepts the data-use agreement first
    assert blocked.json()["error"]["code"] == "agreement_not_accepted"
    accept_over_http(collaborator, base, 1, headers=csrf_header(collaborator, base))
    assert collaborator.get(f"{base}/api/v1/files/1/url", timeout=10).status_code == 200

    renewal = post_form(
        researcher,
        base,
        request_path,
        f"{request_path}/renew",
        progress_report="Half of the tissues are analysed.",
    )
    assert renewal.url != f"{base}{request_path}" and "Renews <a href" in renewal.text
    closed = confirm(
        researcher,
        post_form(
            researcher,
            base,
            request_path,
            f"{request_path}/close",
            copies_destroyed="on",
            statement="Deleted.",
        ),
    )
    assert state_on_page(closed.text) == "closed"
    assert collaborator.get(f"{base}/api/v1/files/1/url", timeout=10).status_code == 403
    timeline = closed.text.split('id="timeline"')[1]
    for step in (
        "Riley Researcher (applicant)</span> submitted the request",
        "Sam Official (signing official)</span> endorsed the request",
        "A committee member</span> voted.",
        "Dana Chair (committee chair)</span> returned the request with questions.",
        "<blockquote>Which tissues?</blockquote>",
        "(applicant)</span> answered the questions.",
        "(committee chair)</span> approved for 30 days.",
        "<blockquote>Consistent with GRU consent.</blockquote>",
        "Robin Researcher (collaborator)</span> joined the request",
        "(applicant)</span> closed out the project",
    ):
        assert step in timeline, step


def test_a_form_without_the_csrf_token_changes_nothing(live: DemoInstance) -> None:
    base = live.base_url
    researcher = sign_in(base, "researcher")
    filed = file_draft(researcher, base, title="Ageing eQTLs")
    path = filed.url.removeprefix(base)
    forged = researcher.post(f"{base}{path}/submit", data={}, timeout=10)
    assert forged.status_code == 400
    assert state_on_page(researcher.get(f"{base}{path}", timeout=10).text) == "draft"


def test_bad_form_input_is_shown_not_stored(live: DemoInstance) -> None:
    base = live.base_url
    researcher = sign_in(base, "researcher")
    shown = researcher.get(f"{base}/requests/new", timeout=10)
    form = next(f for f in forms_in(shown.text, shown.url) if f.action.endswith("/requests/new"))
    refused = researcher.post(
        form.action,
        timeout=10,
        data={
            **form.fields,
            "title": "Ageing eQTLs",
            "research_use_statement": STATEMENT,
            "dataset_ids": "1",
            "purpose_disease_ids": "diabetes",
        },
    )
    assert refused.status_code == 400
    assert "MONDO:0005148" in refused.text
    assert researcher.get(f"{base}/api/v1/requests", timeout=10).json()["requests"] == []


def test_admin_manages_committees_members_and_roles(live: DemoInstance) -> None:
    base = live.base_url
    admin = sign_in(base, "admin")
    created = post_form(
        admin,
        base,
        "/admin/committees",
        "/admin/committees",
        name="Cancer DAC",
        description="Tumour data.",
        default_approval_days="180",
    )
    committee_path = created.url.removeprefix(base)
    users = admin.get(f"{base}/api/v1/users", timeout=10).json()["users"]
    member_id = next(u["id"] for u in users if u["subject"] == "dac-member")
    added = post_form(
        admin, base, committee_path, f"{committee_path}/members", user_id=str(member_id), chair="on"
    )
    assert "Morgan Member" in added.text and "<td>chair</td>" in added.text
    detail = admin.get(f"{base}/api/v1{committee_path.removeprefix('/admin')}", timeout=10).json()
    assert detail["default_approval_days"] == 180
    assert detail["members"] == [
        {
            "user_id": member_id,
            "name": "Morgan Member",
            "email": "dac-member@demo.example",
            "chair": True,
        }
    ]
    confirm(
        admin,
        post_form(admin, base, committee_path, f"{committee_path}/members/{member_id}/remove"),
    )
    assert (
        admin.get(f"{base}/api/v1{committee_path.removeprefix('/admin')}", timeout=10).json()[
            "members"
        ]
        == []
    )

    researcher2 = next(u for u in users if u["subject"] == "researcher2")
    listed = admin.get(f"{base}/api/v1/institutions", timeout=10).json()["institutions"]
    university = next(i["id"] for i in listed if i["name"] == "Demo University")
    post_form(
        admin,
        base,
        "/admin/users",
        f"/admin/users/{researcher2['id']}/roles",
        role="signing_official",
        institution_id=str(university),
    )
    users = admin.get(f"{base}/api/v1/users", timeout=10).json()["users"]
    roles = next(u for u in users if u["id"] == researcher2["id"])["roles"]
    assert [(r["role"], r["institution"]) for r in roles] == [
        ("signing_official", "Demo University")
    ]
    post_form(
        admin,
        base,
        "/admin/users",
        f"/admin/users/{researcher2['id']}/roles/{roles[0]['id']}/remove",
    )

    researcher = sign_in(base, "researcher")
    assert researcher.get(f"{base}/admin/committees", timeout=10).status_code == 403
    refused = researcher.post(
        f"{base}/api/v1/committees",
        timeout=10,
        json={"name": "Mine"},
        headers={
            "X-CSRF-Token": researcher.get(f"{base}/api/v1/users/me", timeout=10).json()[
                "csrf_token"
            ]
        },
    )
    assert refused.status_code == 403
