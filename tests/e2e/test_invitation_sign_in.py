"""Roles given by email before the first sign-in, bound through an independent provider
(panva's oidc-provider) only when it asserts ``email_verified``."""

from __future__ import annotations

from collections.abc import Callable

import requests

from tests.e2e.test_external_oidc import External, external

__all__ = ["external"]  # the fixture, shared with the provider's own tests


def signed_in(setup: External, login: str) -> dict[str, object]:
    browser = requests.Session()
    landed = browser.get(setup.sign_in_flow(browser, login), timeout=10)
    assert landed.status_code == 200, landed.text
    me: dict[str, object] = browser.get(f"{setup.base_url}/api/v1/users/me", timeout=10).json()
    return me


def grant(setup: External, *args: str) -> str:
    result = setup.app.test_cli_runner().invoke(args=["users", "grant-role", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_first_admin_by_email_is_bound_at_a_verified_first_sign_in(
    external: Callable[..., External],
) -> None:
    setup = external()
    said = grant(setup, "admin", "--email", "alice@example.org")
    invited_id = int(said.split("to user ", 1)[1].split(" ", 1)[0])
    me = signed_in(setup, "alice")
    assert (me["id"], me["subject"], me["roles"]) == (invited_id, "alice", ["admin"])
    assert me["issuer"] == setup.provider.issuer
    [bound] = setup.events("auth:invitation_bind")
    assert (bound.actor_subject, bound.target_id) == ("alice", str(invited_id))
    users = setup.app.test_cli_runner().invoke(args=["users", "list"]).output
    assert f"{invited_id}\tactive\talice@example.org\t{setup.provider.issuer} alice\tadmin" in users


def test_an_unverified_email_at_the_provider_binds_nothing(
    external: Callable[..., External],
) -> None:
    setup = external()
    grant(setup, "admin", "--email", "unverified-bob@example.org")
    me = signed_in(setup, "unverified-bob")
    assert me["email"] == "unverified-bob@example.org" and me["roles"] == []
    assert setup.events("auth:invitation_bind") == []
    users = setup.app.test_cli_runner().invoke(args=["users", "list"]).output
    assert "\tinvited\tunverified-bob@example.org\tinvited, via any provider\tadmin" in users


def test_first_admin_by_issuer_and_subject_needs_no_email(
    external: Callable[..., External],
) -> None:
    setup = external()
    grant(setup, "admin", "--issuer", setup.provider.issuer, "--subject", "unverified-carol")
    assert signed_in(setup, "unverified-carol")["roles"] == ["admin"]


def test_an_admin_invites_a_committee_chair_who_then_signs_in(
    external: Callable[..., External],
) -> None:
    """The whole path through the API: the first admin by the CLI, a committee, and its
    chair invited before they ever signed in."""
    setup = external()
    base = setup.base_url
    grant(setup, "admin", "--issuer", setup.provider.issuer, "--subject", "admin-1")
    browser = requests.Session()
    browser.get(setup.sign_in_flow(browser, "admin-1"), timeout=10)
    csrf = {"X-CSRF-Token": browser.get(f"{base}/api/v1/users/me", timeout=10).json()["csrf_token"]}
    committee = browser.post(
        f"{base}/api/v1/committees", headers=csrf, json={"name": "Tissue DAC"}, timeout=10
    ).json()
    invited = browser.post(
        f"{base}/api/v1/users",
        headers=csrf,
        timeout=10,
        json={
            "email": "chair@example.org",
            "issuer": setup.provider.issuer,
            "committees": [{"committee_id": committee["id"], "chair": True}],
        },
    )
    assert invited.status_code == 201, invited.text

    me = signed_in(setup, "chair")
    assert me["id"] == invited.json()["id"]
    members = browser.get(f"{base}/api/v1/committees/{committee['id']}", timeout=10).json()
    assert [(m["user_id"], m["chair"]) for m in members["members"]] == [(me["id"], True)]
