"""A token that is no longer live opens nothing, on every route that takes tokens.

Helpers elsewhere issue a fresh token after every clock move, so nothing else presents an
expired one. Here a token that expired, was revoked, or whose owner's account is gone
is sent to every route under /api/ and /ga4gh/ (the JSON API, DRS and htsget), and each
attempt is refused with 401 and audited with its reason.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from access.identity.actor import Actor
from access.identity.current_actor import TOKEN_PREFIXES
from access.identity.models import User
from access.models import ApiToken
from access.tokens import create_api_token, revoke_api_token
from app import create_app
from audit.log.models import AuditEvent
from tests import factories
from tests.conftest import DemoInstance

LIFETIME = timedelta(days=1)
# A value for each path variable, so that every route is asked for something that exists.
ARGUMENTS = {"action": "submit", "gene": "ALB", "access_id": "signed-url", "filename": "x.js"}
VARIABLE = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def token_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every route that a Bearer token may stand in for a session on."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(TOKEN_PREFIXES):
            continue
        path = VARIABLE.sub(lambda found: ARGUMENTS.get(found[1], "1"), rule.rule)
        methods = set(rule.methods or ()) - {"HEAD"}
        if methods != {"OPTIONS"}:
            methods.discard("OPTIONS")  # Flask's automatic answer, not a route of ours
        routes += [(method, path) for method in sorted(methods)]
    return routes


def new_token(demo: DemoInstance) -> tuple[int, dict[str, str]]:
    """A token of a user of its own, made now, living one day."""
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        owner = factories.user(session, demo.clock.now())
        issued = create_api_token(session, Actor(user=owner), name="job", days=1, max_days=30,
                                  now=demo.clock.now())
    assert issued.record.expires_at == demo.clock.now() + LIFETIME
    return issued.record.id, {"Authorization": f"Bearer {issued.token}"}


def works(client: FlaskClient, headers: dict[str, str]) -> bool:
    return client.get("/api/v1/users/me", headers=headers).status_code == 200


def expire(demo: DemoInstance, token_id: int) -> None:
    demo.clock.advance(LIFETIME)  # the first instant it is no longer live


def revoke(demo: DemoInstance, token_id: int) -> None:
    """By its owner, through the use case the DELETE route calls."""
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        record = session.get(ApiToken, token_id)
        assert record is not None
        owner = session.get(User, record.user_id)
        revoke_api_token(session, Actor(user=owner), token_id, demo.clock.now())


def delete_owner(demo: DemoInstance, token_id: int) -> None:
    """Remove the owner's account row and leave the token, as an erasure done by hand in
    the database (foreign keys off) or a partial restore could: the token must die with it."""
    engine = demo.app.extensions["custodian.engine"]
    with demo.app.extensions["custodian.session_factory"]() as session:
        record = session.get(ApiToken, token_id)
        assert record is not None
        owner_id = record.user_id
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text("DELETE FROM role_assignments WHERE user_id = :id"),
                               {"id": owner_id})
            connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": owner_id})
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA foreign_keys = OFF")  # only outside a transaction
        cursor.execute("DELETE FROM users WHERE id = ?", (owner_id,))
        raw.commit()
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        raw.close()


ENDINGS = {"expired": expire, "revoked": revoke, "owner_deleted": delete_owner}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_dead_token_is_refused_on_every_route_and_each_refusal_is_audited(
    demo: DemoInstance, ending: str
) -> None:
    # Over a hundred bad tokens in a minute would hit the bad-token rate limit (its own
    # test is test_rate_limits.py): here every refusal must be the token's.
    app = create_app(replace(demo.settings, rate_limits_enabled=False), clock=demo.clock)
    client = app.test_client()
    token_id, headers = new_token(demo)
    assert works(client, headers)
    ENDINGS[ending](demo, token_id)
    factory = demo.app.extensions["custodian.session_factory"]
    with factory() as session:
        first_new = (session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())
                                    .limit(1)) or 0) + 1

    routes = token_routes(demo.app)
    assert any(path.startswith("/ga4gh/") for _, path in routes)
    assert len(routes) > 40  # the whole API, not the first few routes
    for method, path in routes:
        answer = client.open(path, method=method, headers=headers, json={})
        assert answer.status_code == 401, (method, path, answer.get_data(as_text=True))
        body = answer.get_json()
        if path.startswith("/ga4gh/htsget/"):  # the htsget spec's error body
            assert body["htsget"]["error"] == "InvalidAuthentication", body
        elif path.startswith("/ga4gh/"):  # DRS's
            assert body == {"msg": body["msg"], "status_code": 401}
        else:
            assert body["error"]["code"] == "not_authenticated"

    with factory() as session:
        new = list(session.scalars(select(AuditEvent).where(AuditEvent.seq >= first_new)
                                   .order_by(AuditEvent.seq)))
    # So many refusals in an hour also raise the alert; nothing else may have happened.
    refusals = [e for e in new if e.action != "audit:alert"]
    assert {e.action for e in new} - {"token:refused"} <= {"audit:alert"}
    assert [(e.action, e.outcome) for e in refusals] == [("token:refused", "denied")] * len(
        routes)
    assert {(e.target_type, e.target_id, e.details["reason"]) for e in refusals} == {
        ("api_token", str(token_id), ending)}
    assert [e.details["path"] for e in refusals] == [path for _, path in routes]
    assert {e.actor_user_id for e in refusals} == {None}  # a dead token makes nobody an actor
    app.extensions["custodian.engine"].dispose()


def test_a_token_lives_until_the_instant_it_expires(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    _, headers = new_token(demo)
    demo.clock.advance(LIFETIME - timedelta(microseconds=1))
    assert works(client, headers)
    demo.clock.advance(timedelta(microseconds=1))
    assert not works(client, headers)


@pytest.mark.parametrize("token, reason", [
    ("cus_" + "x" * 43, "unknown"),
    ("cus_" + "x" * 96, "unknown"),  # 100 characters: as long as a token is looked up
    ("cus_" + "x" * 97, "malformed"),
    ("not-one-of-ours", "malformed"),
    ("cus_" + "x" * 200, "malformed"),
])
def test_a_token_that_was_never_ours_is_refused_without_naming_a_token(
    demo: DemoInstance, token: str, reason: str
) -> None:
    client = demo.app.test_client()
    answer = client.get("/ga4gh/drs/v1/objects/1", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    with demo.app.extensions["custodian.session_factory"]() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event is not None and event.action == "token:refused"
    assert (event.target_type, event.target_id) == (None, None)
    assert event.details == {"path": "/ga4gh/drs/v1/objects/1", "reason": reason}
