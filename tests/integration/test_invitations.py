"""Invitations: admins invite a person by email, on a page or with POST /api/v1/users, with
roles and committee seats at once; the first verified sign-in binds them; an invitation can
be withdrawn; it never binds to an unverified email."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from access.identity.actor import Actor
from access.identity.models import User, email_is
from access.identity.sign_in import sign_in
from access.models import CommitteeMembership
from audit.log.models import AuditEvent
from tests import factories
from tests.conftest import DemoInstance
from tests.integration.test_pages_and_health import signed_in_client
from tests.openapi_support import assert_matches_document

ISSUER = "https://idp.example.org"
CSRF = {"X-CSRF-Token": "known-token"}


def admin(demo: DemoInstance) -> FlaskClient:
    return signed_in_client(demo, "admin")


def new_committee(demo: DemoInstance) -> int:
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        return factories.committee(session, demo.clock.now()).id


def signs_in(demo: DemoInstance, subject: str, issuer: str = ISSUER, **claims: Any) -> User:
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        user = sign_in(
            session,
            Actor(user=None),
            issuer=issuer,
            claims={"sub": subject, **claims},
            now=demo.clock.now(),
            institution_claim="institution",
        )
        session.expunge_all()
        return user


def roles_and_seats(demo: DemoInstance, user_id: int) -> tuple[list[str], list[tuple[int, bool]]]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        user = session.get(User, user_id)
        assert user is not None
        seats = session.execute(
            select(CommitteeMembership.committee_id, CommitteeMembership.is_chair).where(
                CommitteeMembership.user_id == user_id
            )
        )
        return sorted(a.role for a in user.roles), [tuple(row) for row in seats]


def counts(demo: DemoInstance) -> tuple[int, int]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return (
            session.scalar(select(func.count()).select_from(User)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def actions(demo: DemoInstance, *names: str) -> list[AuditEvent]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action.in_(names)).order_by(AuditEvent.seq)
            )
        )


def test_invited_with_roles_and_a_seat_binds_at_the_first_verified_sign_in(
    demo: DemoInstance,
) -> None:
    committee_id = new_committee(demo)
    answer = admin(demo).post(
        "/api/v1/users",
        headers=CSRF,
        json={
            "email": "Chair.Person@Example.org",
            "roles": [{"role": "auditor"}],
            "committees": [{"committee_id": committee_id, "chair": True}],
        },
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    document = demo.app.test_client().get("/api/v1/openapi.json").get_json()
    assert_matches_document(document, "POST", "/api/v1/users", 201, body)
    assert (body["status"], body["email"], body["invited_issuer"]) == (
        "invited",
        "chair.person@example.org",
        None,
    )
    assert [r["role"] for r in body["roles"]] == ["auditor"]
    assert roles_and_seats(demo, body["id"]) == (["auditor"], [(committee_id, True)])
    created = actions(
        demo, "admin:invitation_create", "admin:role_assign", "admin:committee_member_add"
    )[-3:]
    assert [e.action for e in created] == [
        "admin:invitation_create",
        "admin:role_assign",
        "admin:committee_member_add",
    ]
    assert {e.actor_subject for e in created} == {"admin"}

    user = signs_in(demo, "chair-1", email="chair.person@example.org", email_verified=True)
    assert (user.id, user.status) == (body["id"], "active")
    assert roles_and_seats(demo, user.id) == (["auditor"], [(committee_id, True)])
    listed = admin(demo).get("/api/v1/users").get_json()["users"]
    [me] = [u for u in listed if u["id"] == user.id]
    assert (me["issuer"], me["subject"], me["status"]) == (ISSUER, "chair-1", "active")


def test_an_unverified_email_or_another_issuer_does_not_bind(demo: DemoInstance) -> None:
    invited = admin(demo).post(
        "/api/v1/users",
        headers=CSRF,
        json={"email": "dana@example.org", "issuer": ISSUER, "roles": [{"role": "admin"}]},
    )
    assert invited.status_code == 201, invited.get_json()
    unverified = signs_in(demo, "dana", email="dana@example.org", email_verified=False)
    elsewhere = signs_in(
        demo, "dana", issuer="https://other.example", email="dana@example.org", email_verified=True
    )
    for impostor in (unverified, elsewhere):
        assert impostor.id != invited.get_json()["id"]
        assert roles_and_seats(demo, impostor.id) == ([], [])
    assert actions(demo, "auth:invitation_bind") == []
    bound = signs_in(demo, "dana", email="dana@example.org", email_verified=True)
    assert bound.id == unverified.id and roles_and_seats(demo, bound.id)[0] == ["admin"]


def test_withdrawn_invitation_loses_its_roles_and_seats_and_never_binds(
    demo: DemoInstance,
) -> None:
    committee_id = new_committee(demo)
    client = admin(demo)
    invited = client.post(
        "/api/v1/users",
        headers=CSRF,
        json={
            "email": "gone@example.org",
            "roles": [{"role": "auditor"}],
            "committees": [{"committee_id": committee_id}],
        },
    ).get_json()
    assert (
        client.delete(f"/api/v1/users/{invited['id']}/invitation", headers=CSRF).status_code == 204
    )
    assert roles_and_seats(demo, invited["id"]) == ([], [])
    [event] = actions(demo, "admin:invitation_withdraw")
    assert event.details == {
        "email": "gone@example.org",
        "committees": [committee_id],
        "roles": [{"role": "auditor"}],
    }
    user = signs_in(demo, "gone", email="gone@example.org", email_verified=True)
    assert user.id != invited["id"] and roles_and_seats(demo, user.id) == ([], [])

    again = client.delete(f"/api/v1/users/{invited['id']}/invitation", headers=CSRF)
    assert again.status_code == 409 and again.get_json()["error"]["details"] == {
        "status": "withdrawn"
    }
    given = client.post(
        f"/api/v1/users/{invited['id']}/roles", headers=CSRF, json={"role": "admin"}
    )
    seated = client.post(
        f"/api/v1/committees/{committee_id}/members", headers=CSRF, json={"user_id": invited["id"]}
    )
    assert (given.status_code, seated.status_code) == (409, 409)
    signed_in_user = client.delete(f"/api/v1/users/{user.id}/invitation", headers=CSRF)
    assert signed_in_user.status_code == 409


def test_the_same_email_twice_or_a_verified_users_email_is_a_conflict(
    demo: DemoInstance,
) -> None:
    client = admin(demo)
    assert (
        client.post("/api/v1/users", headers=CSRF, json={"email": "twice@example.org"}).status_code
        == 201
    )
    known = signs_in(demo, "known", email="known@example.org", email_verified=True)
    before = counts(demo)
    twice = client.post("/api/v1/users", headers=CSRF, json={"email": "TWICE@example.org"})
    taken = client.post("/api/v1/users", headers=CSRF, json={"email": "known@example.org"})
    assert (twice.status_code, taken.status_code) == (409, 409)
    assert taken.get_json()["error"]["details"]["user_id"] == known.id
    assert counts(demo)[0] == before[0]


def test_bad_invitations_get_400_naming_the_field_and_write_nothing(demo: DemoInstance) -> None:
    client = admin(demo)
    before = counts(demo)
    for body, field in [
        ({}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@example.org", "issuer": "ftp://idp.example"}, "issuer"),
        ({"email": "a@example.org", "issuer": "x" * 600}, "issuer"),
        ({"email": "a@example.org", "roles": [{"role": "root"}]}, "roles"),
        ({"email": "a@example.org", "roles": "admin"}, "roles"),
        ({"email": "a@example.org", "committees": [{"committee_id": "1"}]}, "committees"),
        (
            {"email": "a@example.org", "committees": [{"committee_id": 1, "chair": "yes"}]},
            "committees",
        ),
        ({"email": "a@example.org", "name": "A"}, "name"),
    ]:
        answer = client.post("/api/v1/users", headers=CSRF, json=body)
        assert answer.status_code == 400, (body, answer.get_json())
        assert field in answer.get_json()["error"]["details"], (body, answer.get_json())
    for body, problem in [
        ({"email": "a@example.org", "roles": [{"role": "signing_official"}]}, "role"),
        ({"email": "a@example.org", "committees": [{"committee_id": 424242}]}, "committees"),
    ]:
        answer = client.post("/api/v1/users", headers=CSRF, json=body)
        assert answer.status_code == 400, (body, answer.get_json())
        assert problem in answer.get_json()["error"]["details"], (body, answer.get_json())
    assert counts(demo) == before


def test_a_researcher_cannot_invite_and_the_refusal_is_audited(demo: DemoInstance) -> None:
    refused = signed_in_client(demo, "researcher").post(
        "/api/v1/users", headers=CSRF, json={"email": "friend@example.org"}
    )
    assert refused.status_code == 403
    [event] = actions(demo, "admin:refused")
    assert (event.actor_subject, event.details) == ("researcher", {"what": "invitation_create"})


def test_the_admin_page_invites_and_withdraws(demo: DemoInstance) -> None:
    committee_id = new_committee(demo)
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        university = factories.institution_named(session, demo.clock.now(), "Example University")
        university_id = university.id
    client = admin(demo)
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'action="/admin/users"' in page and 'name="email"' in page
    assert f'<option value="{university_id}">Example University</option>' in page
    sent = client.post(
        "/admin/users",
        data={
            "csrf_token": "known-token",
            "email": "page@example.org",
            "role": "signing_official",
            "institution_id": str(university_id),
            "committee_id": str(committee_id),
            "chair": "on",
        },
    )
    assert sent.status_code == 302
    with demo.app.extensions["custodian.session_factory"]() as session:
        invited = session.scalars(select(User).where(email_is(session, "page@example.org"))).one()
        invited_id = invited.id
    assert roles_and_seats(demo, invited_id) == (["signing_official"], [(committee_id, True)])
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Invited page@example.org" in page
    assert f'action="/admin/users/{invited_id}/withdraw"' in page
    committee_page = client.get(f"/admin/committees/{committee_id}").get_data(as_text=True)
    assert "page@example.org), invited" in committee_page

    bad = client.post("/admin/users", data={"csrf_token": "known-token", "email": "nope"})
    assert bad.status_code == 302
    assert "Not done: email" in client.get("/admin/users").get_data(as_text=True)

    withdrawn = client.post(
        f"/admin/users/{invited_id}/withdraw", data={"csrf_token": "known-token"}
    )
    assert withdrawn.status_code == 302
    assert roles_and_seats(demo, invited_id) == ([], [])
    page = client.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{invited_id}/withdraw"' not in page
    committee_page = client.get(f"/admin/committees/{committee_id}").get_data(as_text=True)
    assert "page@example.org" not in committee_page
