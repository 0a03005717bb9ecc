"""`flask users grant-role / revoke-role / list`: the first administrator without SQL, given
before they ever signed in, bound at their first sign-in, audited as the operator's act."""

from __future__ import annotations

import os
import pwd
from typing import Any

from click.testing import Result
from sqlalchemy import func, select

from access.committees import ensure_committee_member
from access.identity.actor import OPERATOR, Actor
from access.identity.models import User, email_is
from access.identity.sign_in import sign_in
from audit.log.models import AuditEvent
from tests import factories
from tests.conftest import DemoInstance
from tests.conftest import sign_in as sign_in_browser

ISSUER = "https://idp.example.org"
OS_USER = pwd.getpwuid(os.getuid()).pw_name


def run(demo: DemoInstance, *args: str) -> Result:
    return demo.app.test_cli_runner().invoke(args=["users", *args])


def events(demo: DemoInstance, action: str) -> list[AuditEvent]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )


def event_count(demo: DemoInstance) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def signs_in(demo: DemoInstance, subject: str, **claims: Any) -> tuple[int, list[str]]:
    """The sign-in use case as the OIDC callback runs it; returns the user's id and roles."""
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        user = sign_in(
            session,
            Actor(user=None),
            issuer=ISSUER,
            claims={"sub": subject, **claims},
            now=demo.clock.now(),
            institution_claim="institution",
        )
        return user.id, sorted(a.role for a in user.roles)


def test_grant_by_email_invites_and_binds_at_the_first_verified_sign_in(
    demo: DemoInstance,
) -> None:
    granted = run(demo, "grant-role", "admin", "--email", "First.Admin@Example.org")
    assert granted.exit_code == 0, granted.output
    assert "Gave admin to user" in granted.output and "invited" in granted.output
    [invited] = events(demo, "admin:invitation_create")
    [assigned] = events(demo, "admin:role_assign")[-1:]
    for event in (invited, assigned):
        assert event.details["operator"] == {
            "command": "flask users grant-role",
            "os_user": OS_USER,
        }
        assert event.actor_user_id is None
    assert assigned.details["role"] == "admin" and assigned.target_id == invited.target_id

    user_id, roles = signs_in(demo, "u-1", email="first.admin@example.org", email_verified=True)
    assert (str(user_id), roles) == (invited.target_id, ["admin"])
    [bound] = events(demo, "auth:invitation_bind")
    assert bound.actor_user_id == user_id and bound.actor_subject == "u-1"
    listed = run(demo, "list").output
    assert f"{user_id}\tactive\tfirst.admin@example.org\t{ISSUER} u-1\tadmin" in listed


def test_an_unverified_email_never_takes_the_invitation(demo: DemoInstance) -> None:
    assert run(demo, "grant-role", "admin", "--email", "boss@example.org").exit_code == 0
    for verified in (False, "true", None):
        claims = {"email": "boss@example.org"}
        if verified is not None:
            claims["email_verified"] = verified  # type: ignore[assignment]
        _, roles = signs_in(demo, f"impostor-{verified}", **claims)
        assert roles == []
    assert events(demo, "auth:invitation_bind") == []
    assert (
        "\tinvited\tboss@example.org\tinvited, via any provider\tadmin" in run(demo, "list").output
    )


def test_grant_by_issuer_and_subject_waits_for_that_identity(demo: DemoInstance) -> None:
    granted = run(demo, "grant-role", "auditor", "--issuer", ISSUER, "--subject", "aud-7")
    assert granted.exit_code == 0, granted.output
    assert "not signed in yet" in granted.output
    assert "\tnot_signed_in\t-\thttps://idp.example.org aud-7\tauditor" in run(demo, "list").output
    [created] = events(demo, "admin:user_create")[-1:]
    assert created.details["operator"]["command"] == "flask users grant-role"
    _, roles = signs_in(demo, "aud-7")  # no email at all: the identity is enough
    assert roles == ["auditor"]


def test_grant_again_changes_nothing(demo: DemoInstance) -> None:
    run(demo, "grant-role", "admin", "--issuer", ISSUER, "--subject", "twice")
    before = event_count(demo)
    again = run(demo, "grant-role", "admin", "--issuer", ISSUER, "--subject", "twice")
    assert again.exit_code == 0 and "Already held: admin by user" in again.output
    assert event_count(demo) == before


def test_email_of_a_verified_user_gives_the_role_to_that_user(demo: DemoInstance) -> None:
    user_id, _ = signs_in(demo, "known", email="known@example.org", email_verified=True)
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        factories.institution_named(session, demo.clock.now(), "Example University")
    granted = run(
        demo,
        "grant-role",
        "signing_official",
        "--scope",
        "Example University",
        "--email",
        "KNOWN@example.org",
    )
    assert granted.exit_code == 0, granted.output
    assert f"to user {user_id} (known@example.org)" in granted.output
    assert events(demo, "admin:invitation_create") == []


def test_an_email_two_verified_users_share_is_refused(demo: DemoInstance) -> None:
    signs_in(demo, "a", email="shared@example.org", email_verified=True)
    signs_in(demo, "b", email="shared@example.org", email_verified=True)
    before = event_count(demo)
    refused = run(demo, "grant-role", "admin", "--email", "shared@example.org")
    assert refused.exit_code == 1 and "several users" in refused.output
    assert event_count(demo) == before


def test_revoke_role_takes_it_back_and_is_audited(demo: DemoInstance) -> None:
    run(demo, "grant-role", "auditor", "--email", "later@example.org")
    revoked = run(demo, "revoke-role", "auditor", "--email", "later@example.org")
    assert revoked.exit_code == 0, revoked.output
    [event] = events(demo, "admin:role_revoke")
    assert event.details == {
        "role": "auditor",
        "operator": {"command": "flask users revoke-role", "os_user": OS_USER},
    }
    before = event_count(demo)
    again = run(demo, "revoke-role", "auditor", "--email", "later@example.org")
    assert again.exit_code == 1 and "does not hold auditor" in again.output
    unknown = run(demo, "revoke-role", "admin", "--issuer", ISSUER, "--subject", "nobody")
    assert unknown.exit_code == 1 and "No user or invitation matches" in unknown.output
    assert event_count(demo) == before


def test_bad_input_is_a_usage_error_and_writes_nothing(demo: DemoInstance) -> None:
    before = event_count(demo)
    for args, says in [
        (["grant-role", "admin"], "Name the person by --email"),
        (["grant-role", "admin", "--email", "a@example.org", "--subject", "x"], "Name the"),
        (["grant-role", "admin", "--issuer", ISSUER], "Name the person"),
        (["grant-role", "admin", "--email", "not-an-email"], "is not an email address"),
        (["grant-role", "signing_official", "--email", "so@example.org"], "needs --scope"),
        (
            ["grant-role", "signing_official", "--scope", "Nowhere", "--email", "so@example.org"],
            "no institution has the ROR id or name 'Nowhere'",
        ),
        (["grant-role", "auditor", "--scope", "X", "--email", "a@example.org"], "take none"),
        (["grant-role", "root", "--email", "a@example.org"], "'root' is not one of 'admin'"),
        (
            ["grant-role", "admin", "--issuer", "urn:custodian:invited", "--subject", "x"],
            "invitations' own",
        ),
    ]:
        result = run(demo, *args)
        assert result.exit_code == 2, (args, result.output)
        assert says in result.output, (args, result.output)
    assert event_count(demo) == before


def test_a_signed_in_user_signing_in_verified_gets_a_later_invitation(
    demo: DemoInstance,
) -> None:
    """Signed in once unverified, invited by that email, then verified: the invitation's
    role comes to the existing user, whose id stays."""
    first_id, _ = signs_in(demo, "late", email="late@example.org", email_verified=False)
    assert run(demo, "grant-role", "auditor", "--email", "late@example.org").exit_code == 0
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        committee = factories.committee(session, demo.clock.now())
        invited = session.scalars(
            select(User).where(email_is(session, "late@example.org"), User.id != first_id)
        ).one()
        ensure_committee_member(
            session, OPERATOR, committee, invited, chair=True, now=demo.clock.now()
        )
        committee_id, invited_id = committee.id, invited.id
    user_id, roles = signs_in(demo, "late", email="late@example.org", email_verified=True)
    assert (user_id, roles) == (first_id, ["auditor"])
    [bound] = events(demo, "auth:invitation_bind")
    assert bound.details["committees"] == [{"committee_id": committee_id, "chair": True}]
    assert f"{invited_id}\tmerged\tlate@example.org" in run(demo, "list").output


def test_the_chain_verifies_after_operator_acts(demo: DemoInstance) -> None:
    run(demo, "grant-role", "admin", "--email", "x@example.org")
    signs_in(demo, "x", email="x@example.org", email_verified=True)
    verified = demo.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_dev_idp_persona_invited_by_email_gets_the_role_at_sign_in(
    live: DemoInstance,
) -> None:
    """The demo seeds personas without a verified email; the embedded IdP asserts it."""
    assert run(live, "grant-role", "auditor", "--email", "researcher2@demo.example").exit_code == 0
    browser = sign_in_browser(live.base_url, "researcher2")
    me = browser.get(f"{live.base_url}/api/v1/users/me", timeout=10).json()
    assert (me["subject"], me["roles"]) == ("researcher2", ["auditor"])
    [bound] = events(live, "auth:invitation_bind")
    assert bound.actor_subject == "researcher2" and bound.details["roles"] == [
        {"role": "auditor"}
    ]
