"""Institutions as records: admins keep them (name, ROR id, email domains), a user's comes
from an admin's setting, else the provider's claim, else the verified email's domain, and a
request nobody could endorse is refused on submit, audited, and listed for admins."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from access.identity.actor import Actor
from access.identity.models import User
from access.identity.sign_in import sign_in
from audit.log.models import AuditEvent
from tests import factories
from tests.conftest import DemoInstance
from tests.integration.test_pages_and_health import signed_in_client
from tests.openapi_support import assert_matches_document

CSRF = {"X-CSRF-Token": "known-token"}
ISSUER = "https://idp.example"
STATEMENT = "A research-use statement that is long enough to pass validation."
HARVARD = "https://ror.org/03vek6s52"  # a real ROR id, checksum and all


def admin(demo: DemoInstance) -> FlaskClient:
    return signed_in_client(demo, "admin")


def document(demo: DemoInstance) -> Any:
    return demo.app.test_client().get("/api/v1/openapi.json").get_json()


def events(demo: DemoInstance, action: str) -> list[AuditEvent]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return list(session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def event_count(demo: DemoInstance) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def create(client: FlaskClient, **body: Any) -> Any:
    made = client.post("/api/v1/institutions", headers=CSRF, json=body)
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def signs_in(demo: DemoInstance, subject: str, *, claim: str = "institution",
             **claims: Any) -> User:
    """The sign-in use case as the OIDC callback runs it, with the provider's claim setting."""
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        user = sign_in(session, Actor(user=None), issuer=ISSUER,
                       claims={"sub": subject, **claims}, now=demo.clock.now(),
                       institution_claim=claim)
        session.flush()
        session.refresh(user)
        session.expunge_all()
        return user


def test_admin_creates_lists_and_changes_an_institution_audited(demo: DemoInstance) -> None:
    client = admin(demo)
    made = create(client, name="Harvard University", ror_id="03VEK6S52",
                  email_domains=["Harvard.EDU", "@hms.harvard.edu"])
    assert made["ror_id"] == HARVARD
    assert made["email_domains"] == ["harvard.edu", "hms.harvard.edu"]
    assert_matches_document(document(demo), "post", "/api/v1/institutions", 201, made)
    listed = client.get("/api/v1/institutions").get_json()["institutions"]
    assert {"Demo University", "Demo Consortium", "Harvard University"} <= {
        i["name"] for i in listed}
    changed = client.patch(f"/api/v1/institutions/{made['id']}", headers=CSRF,
                           json={"email_domains": ["harvard.edu"], "name": "Harvard"})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["name"], changed.get_json()["email_domains"]) == (
        "Harvard", ["harvard.edu"])
    [created] = [e for e in events(demo, "admin:institution_create")
                 if e.target_id == str(made["id"])]
    assert created.actor_subject == "admin" and created.details["ror_id"] == HARVARD
    [updated] = events(demo, "admin:institution_update")
    assert updated.details == {"changes": {
        "email_domains": {"from": ["harvard.edu", "hms.harvard.edu"], "to": ["harvard.edu"]},
        "name": {"from": "Harvard University", "to": "Harvard"},
    }}


def test_bad_institution_input_is_a_400_naming_the_field_and_writes_nothing(
    demo: DemoInstance,
) -> None:
    client = admin(demo)
    before = event_count(demo)
    for body, field in [
        ({"name": "X University", "ror_id": "https://ror.org/03vek6s53"}, "ror_id"),  # checksum
        ({"name": "X University", "ror_id": "https://ror.org/13vek6s52"}, "ror_id"),
        ({"name": "X University", "ror_id": "https://example.org/03vek6s52"}, "ror_id"),
        ({"name": "X University", "email_domains": ["not a domain"]}, "email_domains"),
        ({"name": "X University", "email_domains": ["x.edu", "X.edu"]}, "email_domains"),
        ({"name": ""}, "name"),
        ({"name": " padded "}, "name"),
        ({"name": "Nul\u0000 College"}, "name"),
        ({"ror_id": HARVARD}, "name"),
        ({"name": "X University", "email_domains": "x.edu"}, "email_domains"),
    ]:
        refused = client.post("/api/v1/institutions", headers=CSRF, json=body)
        assert refused.status_code == 400, (body, refused.get_json())
        assert field in refused.get_json()["error"]["details"], (body, refused.get_json())
    empty = client.patch("/api/v1/institutions/1", headers=CSRF, json={})
    assert empty.status_code == 400
    assert client.patch("/api/v1/institutions/99999", headers=CSRF,
                        json={"name": "Nobody"}).status_code == 404
    assert event_count(demo) == before


def test_names_ror_ids_and_domains_belong_to_one_institution(demo: DemoInstance) -> None:
    client = admin(demo)
    first = create(client, name="First", ror_id=HARVARD, email_domains=["first.edu"])
    second = create(client, name="Second")
    for body, field in [
        ({"name": "first"}, "name"),
        ({"ror_id": HARVARD}, "ror_id"),
        ({"email_domains": ["second.edu", "first.edu"]}, "email_domains"),
    ]:
        refused = client.patch(f"/api/v1/institutions/{second['id']}", headers=CSRF, json=body)
        assert refused.status_code == 409, (body, refused.get_json())
        assert field in refused.get_json()["error"]["details"]
    # An institution keeps its own domain when it lists it again.
    again = client.patch(f"/api/v1/institutions/{first['id']}", headers=CSRF,
                         json={"email_domains": ["first.edu", "also-first.edu"]})
    assert again.status_code == 200, again.get_json()


def test_a_name_beyond_ascii_given_twice_is_a_409_not_a_500(demo: DemoInstance) -> None:
    """The fuzzer's case: PostgreSQL's C collation folds no case beyond ASCII, so a check
    that folded one side in Python let the second 'Í' through to the unique index."""
    client = admin(demo)
    create(client, name="£¨Í")
    before = event_count(demo)
    again = client.post("/api/v1/institutions", headers=CSRF, json={"name": "£¨Í"})
    assert again.status_code == 409, again.get_json()
    assert again.get_json()["error"]["details"] == {"name": "£¨Í"}
    assert event_count(demo) == before  # nothing written


def test_only_admins_change_institutions_and_the_refusal_is_audited(demo: DemoInstance) -> None:
    researcher = signed_in_client(demo, "researcher")
    assert researcher.get("/api/v1/institutions").status_code == 200
    refused = researcher.post("/api/v1/institutions", headers=CSRF, json={"name": "Mine"})
    assert refused.status_code == 403
    assert researcher.patch("/api/v1/institutions/1", headers=CSRF,
                            json={"name": "Mine"}).status_code == 403
    assert researcher.patch("/api/v1/users/1", headers=CSRF,
                            json={"institution_id": None}).status_code == 403
    refusals = [e.details["what"] for e in events(demo, "admin:refused")]
    assert refusals == ["institution_create", "institution_update", "user_update"]


def test_institution_comes_from_admin_then_claim_then_email_domain(demo: DemoInstance) -> None:
    client = admin(demo)
    by_claim = create(client, name="Claimed Institute", ror_id=HARVARD)
    by_domain = create(client, name="Domain College", email_domains=["domain.edu"])
    by_admin = create(client, name="Admin Academy")
    claims: dict[str, Any] = {"email": "pat@med.domain.edu", "email_verified": True}

    user = signs_in(demo, "pat", **claims)
    assert (user.institution_id, user.institution_source) == (by_domain["id"], "email_domain")
    user = signs_in(demo, "pat", institution="claimed institute", **claims)
    assert (user.institution_id, user.institution_source) == (by_claim["id"], "claim")
    user = signs_in(demo, "pat", institution=["Unknown", HARVARD], **claims)
    assert user.institution_id == by_claim["id"]  # a list: the first value naming a record

    set_by_admin = client.patch(f"/api/v1/users/{user.id}", headers=CSRF,
                                json={"institution_id": by_admin["id"]})
    assert set_by_admin.status_code == 200, set_by_admin.get_json()
    assert (set_by_admin.get_json()["institution"],
            set_by_admin.get_json()["institution_source"]) == ("Admin Academy", "admin")
    assert_matches_document(document(demo), "patch", f"/api/v1/users/{user.id}", 200,
                            set_by_admin.get_json())
    user = signs_in(demo, "pat", institution="Claimed Institute", **claims)
    assert (user.institution_id, user.institution_source) == (by_admin["id"], "admin")
    [event] = events(demo, "admin:user_update")
    assert event.details == {"institution_id": {"from": by_claim["id"], "to": by_admin["id"]}}

    cleared = client.patch(f"/api/v1/users/{user.id}", headers=CSRF, json={"institution_id": None})
    assert cleared.get_json()["institution_id"] is None
    user = signs_in(demo, "pat", institution="Claimed Institute", **claims)
    assert user.institution_source == "claim"
    login = events(demo, "auth:login")[-1]
    assert login.details["institution_id"] == by_claim["id"]
    assert login.details["institution_from"] == "claim"


def test_the_claim_is_per_provider_and_an_unverified_email_places_nobody(
    demo: DemoInstance,
) -> None:
    client = admin(demo)
    create(client, name="Affiliated", email_domains=["affiliated.org"])
    named = create(client, name="Home Institute")
    user = signs_in(demo, "kim", claim="org", org="Home Institute", institution="Affiliated")
    assert user.institution_id == named["id"]
    user = signs_in(demo, "kim", claim="", org="Home Institute")  # the claim switched off
    assert user.institution_id is None
    user = signs_in(demo, "kim", email="kim@affiliated.org", email_verified=False)
    assert user.institution_id is None and user.institution_source is None


def test_bad_user_update_is_a_400_naming_the_field(demo: DemoInstance) -> None:
    client = admin(demo)
    before = event_count(demo)
    for body in ({}, {"institution_id": "1"}, {"institution_id": 99999}, {"institution_id": 0}):
        refused = client.patch("/api/v1/users/1", headers=CSRF, json=body)
        assert refused.status_code == 400, (body, refused.get_json())
        assert "institution_id" in refused.get_json()["error"]["details"]
    assert client.patch("/api/v1/users/99999", headers=CSRF,
                        json={"institution_id": None}).status_code == 404
    assert event_count(demo) == before


def file_draft(client: FlaskClient) -> int:
    filed = client.post("/api/v1/requests", headers=CSRF, json={
        "title": "Stuck?", "research_use_statement": STATEMENT, "dataset_ids": [1]})
    assert filed.status_code == 201, filed.get_json()
    request_id: int = filed.get_json()["id"]
    return request_id


def test_submit_without_an_institution_says_whom_to_ask_and_admins_see_it(
    demo: DemoInstance,
) -> None:
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        factories.user(session, demo.clock.now(), subject="lone", institution=None)
    applicant = signed_in_client(demo, "lone")
    request_id = file_draft(applicant)
    refused = applicant.post(f"/api/v1/requests/{request_id}/submit", headers=CSRF)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert "ask an administrator to set your institution" in error["message"]
    assert error["details"]["reason"] == "no_institution"
    assert applicant.get(f"/api/v1/requests/{request_id}").get_json()["state"] == "draft"
    [refusal] = [e for e in events(demo, "request:refused") if e.target_id == str(request_id)]
    assert refusal.outcome == "denied" and refusal.details["reason"] == "no_institution"

    client = admin(demo)
    held = client.get("/api/v1/requests?scope=held").get_json()["requests"]
    assert [r["id"] for r in held] == [request_id]
    assert held[0]["applicant"]["institution"] is None
    assert applicant.get("/api/v1/requests?scope=held").status_code == 403
    page = client.get("/admin/institutions").get_data(as_text=True)
    assert f'href="/requests/{request_id}"' in page and "no institution: set it" in page

    # The admin sets it; Demo University has a signing official, so it goes through.
    with demo.app.extensions["custodian.session_factory"]() as session:
        lone = session.scalars(select(User).where(User.subject == "lone")).one()
        lone_id = lone.id
    university = next(i["id"] for i in client.get("/api/v1/institutions").get_json()[
        "institutions"] if i["name"] == "Demo University")
    assert client.patch(f"/api/v1/users/{lone_id}", headers=CSRF,
                        json={"institution_id": university}).status_code == 200
    assert client.get("/api/v1/requests?scope=held").get_json()["requests"] == []
    submitted = applicant.post(f"/api/v1/requests/{request_id}/submit", headers=CSRF)
    assert submitted.status_code == 200, submitted.get_json()
    official = signed_in_client(demo, "signing-official")
    queue = official.get("/api/v1/requests?scope=endorse").get_json()["requests"]
    assert request_id in [r["id"] for r in queue]


def test_submit_when_the_institution_has_no_signing_official_names_it(
    demo: DemoInstance,
) -> None:
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        factories.user(session, demo.clock.now(), subject="far", institution="Faraway College")
    applicant = signed_in_client(demo, "far")
    request_id = file_draft(applicant)
    refused = applicant.post(f"/api/v1/requests/{request_id}/submit", headers=CSRF)
    assert refused.status_code == 409
    message = refused.get_json()["error"]["message"]
    assert "Faraway College, has no signing official" in message
    assert "ask an administrator to appoint one" in message
    client = admin(demo)
    assert [r["id"] for r in client.get("/api/v1/requests?scope=held").get_json()[
        "requests"]] == [request_id]
    page = client.get("/admin/institutions").get_data(as_text=True)
    assert "Faraway College has no signing official" in page

    # An official appointed on the users page (chosen from the list) unblocks it.
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        official = factories.user(session, demo.clock.now(), subject="far-so",
                                  institution="Faraway College")
        official_id = official.id
        faraway_id = official.institution_id
    page = client.get("/admin/users").get_data(as_text=True)
    assert f'<option value="{faraway_id}">Faraway College</option>' in page
    given = client.post(f"/admin/users/{official_id}/roles", data={
        "csrf_token": "known-token", "role": "signing_official",
        "institution_id": str(faraway_id)})
    assert given.status_code == 302
    assert applicant.post(f"/api/v1/requests/{request_id}/submit",
                          headers=CSRF).status_code == 200
    endorsed = signed_in_client(demo, "far-so").post(
        f"/api/v1/requests/{request_id}/endorse", headers=CSRF, json={})
    assert endorsed.status_code == 200, endorsed.get_json()


def test_a_signing_official_role_needs_an_institution_record(demo: DemoInstance) -> None:
    client = admin(demo)
    before = event_count(demo)
    for body in ({"role": "signing_official"},
                 {"role": "signing_official", "institution_id": 99999},
                 {"role": "auditor", "institution_id": 1},
                 {"role": "signing_official", "scope": "Demo University"}):
        refused = client.post("/api/v1/users/1/roles", headers=CSRF, json=body)
        assert refused.status_code == 400, (body, refused.get_json())
        details = refused.get_json()["error"]["details"]
        assert "institution_id" in details or "scope" in details, details
    assert event_count(demo) == before


def test_the_institutions_page_creates_and_edits_with_errors_shown(demo: DemoInstance) -> None:
    client = admin(demo)
    page = client.get("/admin/institutions").get_data(as_text=True)
    assert "<label>Name <input name=\"name\" required" in page
    made = client.post("/admin/institutions", data={
        "csrf_token": "known-token", "name": "Page College", "ror_id": "",
        "email_domains": "page.edu, PAGE.org"})
    assert made.status_code == 302
    listed = client.get("/api/v1/institutions").get_json()["institutions"]
    [college] = [i for i in listed if i["name"] == "Page College"]
    assert (college["ror_id"], college["email_domains"]) == (None, ["page.edu", "page.org"])
    bad = client.post(f"/admin/institutions/{college['id']}", data={
        "csrf_token": "known-token", "ror_id": "https://ror.org/03vek6s53"},
        follow_redirects=True)
    assert "Not done: ror_id: The ROR id&#39;s checksum digits do not match" in bad.get_data(
        as_text=True)
    taken = client.post("/admin/institutions", data={
        "csrf_token": "known-token", "name": "Other", "email_domains": "page.edu"},
        follow_redirects=True)
    assert "these are another&#39;s: page.edu" in taken.get_data(as_text=True)
    saved = client.post(f"/admin/institutions/{college['id']}", data={
        "csrf_token": "known-token", "name": "Page College", "ror_id": HARVARD,
        "email_domains": "page.edu"}, follow_redirects=True)
    assert "Institution saved." in saved.get_data(as_text=True)
    assert f'<a href="{HARVARD}">' in saved.get_data(as_text=True)
    assert [e.details["name"] for e in events(demo, "admin:institution_create")][-1] == \
        "Page College"
