"""Personal API tokens: scopes, lifetimes, listing without secrets, the page, and the audit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from access.models import ApiToken
from access.tokens import hash_token
from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import controlled_files, fetch, grant_access
from tests.integration.test_api_bad_input import assert_error_shape, counts
from tests.integration.test_pages_and_health import signed_in_client


def bearer(body: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['token']}"}


def make_token(client: FlaskClient, owner: dict[str, str], **body: object) -> dict[str, object]:
    created = client.post("/api/v1/tokens", headers=owner, json=body)
    assert created.status_code == 201, created.get_json()
    found: dict[str, object] = created.get_json()
    return found


def events(demo: DemoInstance, action: str) -> list[AuditEvent]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )


def test_default_token_lives_30_days_browsing_and_downloading_only(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    body = make_token(client, issue_token(demo, "researcher"), name="laptop", days=None)
    assert body["scopes"] == ["catalogue", "download"]
    created = events(demo, "token:create")[-1]
    assert created.details["scopes"] == body["scopes"]
    narrow = bearer(
        make_token(client, issue_token(demo, "researcher"), scopes=["download", "tokens"])
    )
    assert make_token(client, narrow)["scopes"] == ["download"]
    # issue_token's own token expires in a day, and a token cannot outlive its maker...
    assert str(body["expires_at"]).startswith(
        (demo.clock.now() + timedelta(days=1)).date().isoformat()
    )
    # ...while one made from a session gets the default 30 days.
    session_client = signed_in_client(demo, "researcher")
    fresh = session_client.post(
        "/api/v1/tokens", headers={"X-CSRF-Token": "known-token"}, json={"name": "thirty"}
    )
    assert fresh.status_code == 201, fresh.get_json()
    assert fresh.get_json()["expires_at"].startswith(
        (demo.clock.now() + timedelta(days=30)).date().isoformat()
    )


def test_token_longer_than_the_maximum_is_400_and_stores_nothing(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    before = counts(demo)
    headers = {"X-CSRF-Token": "known-token"}
    too_long = client.post(
        "/api/v1/tokens", headers=headers, json={"days": demo.settings.api_token_max_days + 1}
    )
    error = assert_error_shape(too_long, 400)
    assert str(demo.settings.api_token_max_days) in error["message"]
    bad_bodies: list[dict[str, object]] = [
        {"days": 0},
        {"scopes": []},
        {"scopes": ["everything"]},
        {"scopes": "download"},
        {"days": "7"},
        {"name": ""},
    ]
    for bad in bad_bodies:
        assert_error_shape(client.post("/api/v1/tokens", headers=headers, json=bad), 400)
    assert counts(demo) == before
    longest = client.post(
        "/api/v1/tokens", headers=headers, json={"days": demo.settings.api_token_max_days}
    )
    assert longest.status_code == 201


def test_token_is_stored_only_as_its_hash_and_listing_shows_no_secret(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    owner = issue_token(demo, "researcher")
    body = make_token(client, owner, name="for listing", scopes=["catalogue"])
    with demo.app.extensions["custodian.session_factory"]() as session:
        stored = session.get(ApiToken, body["id"])
        assert stored is not None
        assert stored.token_hash == hash_token(str(body["token"]))
        assert str(body["token"]) not in (stored.token_hash, stored.name, stored.scopes)
    listed = client.get("/api/v1/tokens", headers=owner)
    assert listed.status_code == 200
    text = listed.get_data(as_text=True)
    assert str(body["token"]) not in text and "token_hash" not in text
    mine = {token["id"]: token for token in listed.get_json()["tokens"]}
    assert mine[body["id"]]["scopes"] == ["catalogue"]
    assert mine[body["id"]]["name"] == "for listing" and mine[body["id"]]["revoked_at"] is None
    # Someone else's list does not show it.
    theirs = client.get("/api/v1/tokens", headers=issue_token(demo, "researcher2")).get_json()
    assert body["id"] not in {token["id"] for token in theirs["tokens"]}


def test_token_outside_its_scope_gets_403_naming_the_scope(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    grant_access(demo)
    _, files = controlled_files(demo)
    catalogue_only = bearer(
        make_token(client, issue_token(demo, "researcher"), scopes=["catalogue"])
    )
    assert client.get("/api/v1/datasets", headers=catalogue_only).status_code == 200
    refused = client.get(f"/api/v1/files/{files[0]}/url", headers=catalogue_only)
    error = assert_error_shape(refused, 403)
    assert '"download"' in error["message"] and error["details"]["missing_scope"] == "download"
    for path in ("/api/v1/requests", "/api/v1/audit/events"):
        error = assert_error_shape(client.get(path, headers=catalogue_only), 403)
        assert error["details"]["missing_scope"] in ("requests", "audit-read")
    refusal = events(demo, "token:refused")[-1]
    assert refusal.outcome == "denied" and refusal.details["missing_scope"] == "audit-read"
    assert refusal.actor_token_id is not None and refusal.actor_subject == "researcher"
    download_only = bearer(make_token(client, issue_token(demo, "researcher"), scopes=["download"]))
    assert client.get(f"/api/v1/files/{files[0]}/url", headers=download_only).status_code == 200
    error = assert_error_shape(client.get("/api/v1/datasets/1", headers=download_only), 403)
    assert error["details"]["missing_scope"] == "catalogue"


def test_audit_scope_does_not_make_a_researcher_an_auditor(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    auditor = bearer(make_token(client, issue_token(demo, "auditor"), scopes=["audit-read"]))
    assert client.get("/api/v1/audit/events?limit=1", headers=auditor).status_code == 200
    researcher = bearer(make_token(client, issue_token(demo, "researcher"), scopes=["audit-read"]))
    assert_error_shape(client.get("/api/v1/audit/events", headers=researcher), 403)


def test_a_token_cannot_make_a_wider_token(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    narrow = bearer(
        make_token(client, issue_token(demo, "researcher"), scopes=["catalogue", "tokens"])
    )
    before = counts(demo)
    refused = client.post("/api/v1/tokens", headers=narrow, json={"scopes": ["download"]})
    assert assert_error_shape(refused, 403)["details"]["missing_scopes"] == ["download"]
    assert counts(demo) == before
    same = client.post("/api/v1/tokens", headers=narrow, json={"scopes": ["catalogue"]})
    assert same.status_code == 201


def test_download_by_token_is_attributed_to_the_token(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    grant_access(demo)
    _, files = controlled_files(demo)
    body = make_token(client, issue_token(demo, "researcher"), scopes=["download"])
    issued = client.get(f"/api/v1/files/{files[0]}/url", headers=bearer(body))
    assert issued.status_code == 200
    issue_event = events(demo, "url:issue")[-1]
    assert issue_event.actor_token_id == body["id"]
    assert (issue_event.target_type, issue_event.target_id) == ("file", str(files[0]))
    assert fetch(client, issued.get_json()["url"]) == 200
    served = events(demo, "file:serve")[-1]
    assert served.actor_subject == "researcher" and served.target_id == str(files[0])
    assert served.actor_token_id == body["id"]  # the URL carries it, signed
    assert served.details["url_user"] == f"{served.actor_user_id}-t{body['id']}"
    # Without a grant the refusal names the token as well.
    other = make_token(client, issue_token(demo, "researcher2"), scopes=["download"])
    assert_error_shape(client.get(f"/api/v1/files/{files[0]}/url", headers=bearer(other)), 403)
    refusal = events(demo, "url:refuse")[-1]
    assert refusal.actor_token_id == other["id"] and refusal.outcome == "denied"


def test_routes_without_a_declaration_accept_no_token(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    token = issue_token(demo, "researcher")
    refused = client.get("/api/docs", headers=token)
    assert assert_error_shape(refused, 403)["message"].startswith("This endpoint does not")


def form_id(page: TestResponse) -> str:
    found = re.search(r'name="form_id" value="([\w-]+)"', page.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_tokens_page_creates_shows_once_lists_and_revokes(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    page = client.get("/tokens")
    assert page.status_code == 200
    assert 'value="catalogue" checked' in page.get_data(as_text=True)
    created = client.post(
        "/tokens",
        data={
            "csrf_token": "known-token",
            "name": "cluster",
            "days": "7",
            "scopes": ["download"],
            "form_id": form_id(page),
        },
    )
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    secret = re.search(r'<pre id="new-token">(cus_[\w-]+)</pre>', html)
    assert secret is not None
    token = secret.group(1)
    again = client.get("/tokens").get_data(as_text=True)
    assert token not in again and "cluster" in again and "active" in again
    with demo.app.extensions["custodian.session_factory"]() as session:
        record = session.scalars(select(ApiToken).where(ApiToken.name == "cluster")).one()
        assert record.scopes == "download"
        assert record.expires_at - record.created_at == timedelta(days=7)
    headers = {"Authorization": f"Bearer {token}"}
    assert demo.app.test_client().get("/api/v1/users/me", headers=headers).status_code == 200
    asked = client.post(f"/tokens/{record.id}/revoke", data={"csrf_token": "known-token"})
    assert asked.status_code == 200 and "Yes, revoke it" in asked.get_data(as_text=True)
    still = demo.app.test_client().get("/api/v1/users/me", headers=headers)
    assert still.status_code == 200  # asking changed nothing
    revoked = client.post(
        f"/tokens/{record.id}/revoke", data={"csrf_token": "known-token", "confirmed": "yes"}
    )
    assert revoked.status_code == 302
    assert "revoked" in client.get("/tokens").get_data(as_text=True)
    assert_error_shape(demo.app.test_client().get("/api/v1/users/me", headers=headers), 401)


def test_a_token_form_sent_again_creates_no_second_token(demo: DemoInstance) -> None:
    """Reloading the answer that showed the secret sends the form again: it is refused."""
    client = signed_in_client(demo, "researcher")
    data = {
        "csrf_token": "known-token",
        "name": "once",
        "days": "7",
        "scopes": ["download"],
        "form_id": form_id(client.get("/tokens")),
    }
    first = client.post("/tokens", data=data)
    assert 'id="new-token"' in first.get_data(as_text=True)
    before = counts(demo)
    again = client.post("/tokens", data=data)
    assert again.status_code == 303 and again.headers["Location"] == "/tokens"
    assert counts(demo) == before
    listed = client.get("/tokens").get_data(as_text=True)
    assert "already sent" in listed and 'id="new-token"' not in listed
    fresh = client.post("/tokens", data={**data, "form_id": form_id(first)})
    assert 'id="new-token"' in fresh.get_data(as_text=True)  # the next form is a new one
    with demo.app.extensions["custodian.session_factory"]() as session:
        assert len(session.scalars(select(ApiToken).where(ApiToken.name == "once")).all()) == 2


@pytest.mark.parametrize(
    "form",
    [
        {"days": "0"},
        {"days": "9999"},
        {"days": "soon"},
        {"scopes": []},
        {"scopes": ["root"]},
        {"form_id": ""},
    ],
)
def test_tokens_page_refuses_bad_input_and_creates_nothing(
    demo: DemoInstance, form: dict[str, object]
) -> None:
    client = signed_in_client(demo, "researcher")
    before = counts(demo)
    data: dict[str, object] = {
        "csrf_token": "known-token",
        "name": "x",
        "days": "7",
        "scopes": ["catalogue"],
        "form_id": "f1",
        **form,
    }
    refused = client.post("/tokens", data=data)
    assert refused.status_code == 400
    assert 'id="new-token"' not in refused.get_data(as_text=True)
    assert counts(demo) == before


def test_tokens_page_revoke_needs_csrf_and_ownership(demo: DemoInstance) -> None:
    owner = demo.app.test_client()
    body = make_token(owner, issue_token(demo, "researcher"))
    other = signed_in_client(demo, "researcher2")
    assert (
        other.post(f"/tokens/{body['id']}/revoke", data={"csrf_token": "known-token"}).status_code
        == 404
    )
    mine = signed_in_client(demo, "researcher")
    assert mine.post(f"/tokens/{body['id']}/revoke").status_code == 400  # no CSRF token
    assert owner.get("/api/v1/users/me", headers=bearer(body)).status_code == 200


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/api/v1/tokens"), ("POST", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens/1")],
)
def test_a_token_without_the_tokens_scope_cannot_manage_tokens(
    demo: DemoInstance, method: str, path: str
) -> None:
    client = demo.app.test_client()
    narrow = bearer(
        make_token(
            client, issue_token(demo, "researcher"), scopes=["catalogue", "download", "requests"]
        )
    )
    before = counts(demo)
    refused = client.open(path, method=method, headers=narrow, json={"name": "wider"})
    error = assert_error_shape(refused, 403)
    assert error["details"]["missing_scope"] == "tokens"
    assert "<Scope" not in error["message"] and "'tokens'" not in error["message"]
    after = counts(demo)
    assert after["ApiToken"] == before["ApiToken"]
    assert events(demo, "token:refused")[-1].details["missing_scope"] == "tokens"
