"""Which email claims may bind an invitation, and how an operator's command is named."""

from __future__ import annotations

import os
import pwd
from datetime import UTC, datetime

import pytest

from access.identity.actor import operator
from access.identity.invitations import verified_email
from access.identity.models import INVITED_ISSUER, Invitation, User


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"email": "A.Person@Example.org", "email_verified": True}, "a.person@example.org"),
        ({"email": "a@example.org", "email_verified": False}, None),
        ({"email": "a@example.org", "email_verified": "true"}, None),
        ({"email": "a@example.org", "email_verified": 1}, None),
        ({"email": "a@example.org"}, None),
        ({"email_verified": True}, None),
        ({"email": "no-at-sign", "email_verified": True}, None),
        ({"email": ["a@example.org"], "email_verified": True}, None),
    ],
)
def test_only_a_verified_email_claim_counts(
    claims: dict[str, object], expected: str | None
) -> None:
    assert verified_email(claims) == expected


def test_operator_names_the_command_and_the_real_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "someone-else")
    monkeypatch.setenv("LOGNAME", "someone-else")
    audit = operator("flask users grant-role").audit()
    assert audit.operator == {
        "command": "flask users grant-role",
        "os_user": pwd.getpwuid(os.getuid()).pw_name,
    }
    assert audit.user_id is None


def test_a_uid_without_a_passwd_entry_is_named_by_number(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(uid: int) -> None:
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", missing)
    assert operator("x").operator == {"command": "x", "os_user": f"uid {os.getuid()}"}


@pytest.mark.parametrize(
    ("invitation", "issuer", "signed_in", "status"),
    [
        (Invitation.PENDING, INVITED_ISSUER, False, "invited"),
        (Invitation.WITHDRAWN, INVITED_ISSUER, False, "withdrawn"),
        (Invitation.BOUND, INVITED_ISSUER, False, "merged"),
        (Invitation.BOUND, "https://idp.example", True, "active"),
        (None, "https://idp.example", False, "not_signed_in"),
    ],
)
def test_status_says_where_a_person_stands(
    invitation: Invitation | None, issuer: str, signed_in: bool, status: str
) -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    user = User(
        issuer=issuer, subject="s", invitation=invitation, last_login_at=now if signed_in else None
    )
    assert user.status == status
