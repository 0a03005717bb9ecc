"""Our grants as signed visas, our JWKS, and visas brought along at sign-in."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

import requests
from joserfc import jws, jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from access.extensions import passport_verifier
from access.identity.actor import Actor
from access.identity.models import User
from access.passports.models import PassportGrant
from access.passports.passport_grants import record_sign_in_visas
from app import create_app
from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token
from tests.integration.passport_support import Trusting, trusting
from tests.passport_broker import claims_of

__all__ = ["trusting"]


def my_visas(setup: Trusting, username: str) -> list[str]:
    response = requests.get(f"{setup.base}/api/v1/users/me/visas",
                            headers=issue_token(setup.demo, username), timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    visas: list[str] = response.json()["visas"]
    return visas


def test_live_grants_become_visas_signed_by_the_key_our_jwks_publishes(
    trusting: Trusting,
) -> None:
    setup = trusting
    grant = setup.grant("researcher", ends=timedelta(minutes=20))
    setup.grant("researcher", starts=timedelta(days=-60), ends=timedelta(days=-1))  # over
    [visa] = my_visas(setup, "researcher")

    header = jws.extract_compact(visa.encode()).protected
    assert header["jku"] == f"{setup.base}/.well-known/jwks.json"
    assert header["alg"] == "ES256" and header["typ"] == "JWT"
    published = requests.get(header["jku"], timeout=10).json()
    assert [key["kid"] for key in published["keys"]] == [header["kid"]]
    assert all("d" not in key for key in published["keys"])  # public halves only
    claims = jwt.decode(visa, KeySet.import_key_set(published), algorithms=["ES256"]).claims

    user = setup.user("researcher")
    assert claims["iss"] == setup.base and claims["sub"] == str(user.id)
    assert claims["exp"] == int(grant.ends_at.timestamp())  # the grant ends within the hour
    assert claims["iat"] == int(setup.now().timestamp())
    assert claims["ga4gh_visa_v1"] == {
        "type": "ControlledAccessGrants", "value": "phs000424.v10.p2.c1",
        "source": setup.base, "by": "dac", "asserted": int(grant.starts_at.timestamp())}
    [issued] = setup.events("passport:visa_issue")
    assert issued.actor_subject == "researcher"
    assert issued.details["visas"][0]["jti"] == claims["jti"]


def test_a_visa_lives_at_most_an_hour_and_none_is_issued_without_a_live_grant(
    trusting: Trusting,
) -> None:
    setup = trusting
    assert my_visas(setup, "researcher2") == []
    setup.grant("researcher2")
    [visa] = my_visas(setup, "researcher2")
    assert claims_of(visa)["exp"] == int((setup.now() + timedelta(hours=1)).timestamp())
    anonymous = requests.get(f"{setup.base}/api/v1/users/me/visas", timeout=10)
    assert anonymous.status_code == 401


def test_our_visas_round_trip_through_our_own_consumer(trusting: Trusting) -> None:
    """Trusting ourselves, researcher's visa opens the dataset for a request by researcher2."""
    setup = trusting
    setup.grant("researcher")
    visas = my_visas(setup, "researcher")
    _, data_file = setup.controlled()
    response = requests.post(f"{setup.base}/api/v1/files/{data_file.id}/url",
                             json={"passports": visas},
                             headers=issue_token(setup.demo, "researcher2"), timeout=10)
    assert response.status_code == 200, response.text
    [accepted] = setup.events("passport:visa_accept")
    assert accepted.details["issuer"] == setup.base

    setup.demo.clock.advance(timedelta(hours=1, seconds=1))
    expired = requests.post(f"{setup.base}/api/v1/files/{data_file.id}/url",
                            json={"passports": visas},
                            headers=issue_token(setup.demo, "researcher2"), timeout=10)
    assert expired.status_code == 403
    assert expired.json()["error"]["details"]["refused"][0]["reason"] == "expired"


def test_visas_at_sign_in_are_stored_as_hashes_and_open_downloads_until_they_expire(
    trusting: Trusting,
) -> None:
    setup = trusting
    now = setup.now()
    good = setup.broker.visa("phs000424.v10.p2.c1", now=now, lifetime=timedelta(minutes=30))
    bad = setup.broker.visa("phs000424.v10.p2.c1", now=now, by="self")
    factory = setup.app.extensions["custodian.session_factory"]
    with setup.app.app_context():
        verifier = passport_verifier()
    with factory.begin() as session:
        user = session.scalars(select(User).where(User.subject == "researcher2")).one()
        stored = record_sign_in_visas(session, Actor(user=user), [good, bad, 7], now=now,
                                      verifier=verifier)
        assert len(stored) == 1
    with factory.begin() as session:  # signing in again with the same visa adds nothing
        user = session.scalars(select(User).where(User.subject == "researcher2")).one()
        record_sign_in_visas(session, Actor(user=user), [good], now=now,
                             verifier=verifier)

    with setup.session() as session:
        [row] = session.scalars(select(PassportGrant)).all()
        assert row.visa_hash == hashlib.sha256(good.encode()).hexdigest()
        assert row.issuer == setup.broker.issuer and row.jti == claims_of(good)["jti"]
        assert row.expires_at == now.replace(microsecond=0) + timedelta(minutes=30)
        details = [str(e.details) for e in session.scalars(select(AuditEvent))]
    assert not any(good in text or bad in text for text in details)  # never the raw token
    reasons = [e.details["reason"] for e in setup.events("passport:visa_refuse")]
    assert reasons == ["malformed", "not_by_dac"]  # unreadable entries are found first
    assert len(setup.events("passport:visa_accept")) == 2

    _, data_file = setup.controlled()
    url = f"{setup.base}/api/v1/files/{data_file.id}/url"
    headers = issue_token(setup.demo, "researcher2")
    issued = requests.get(url, headers=headers, timeout=10)
    assert issued.status_code == 200, issued.text
    assert setup.events("url:issue")[-1].details["granted_by"] == "sign_in_visa"
    setup.demo.clock.advance(timedelta(minutes=31))
    assert requests.get(url, headers=headers, timeout=10).status_code == 403


def test_without_a_visa_key_no_visas_are_issued_and_no_keys_published(
    demo: DemoInstance,
) -> None:
    app = create_app(replace(demo.settings, visa_signing_key_pem=""), clock=demo.clock)
    try:
        client = app.test_client()
        refused = client.get("/api/v1/users/me/visas", headers=issue_token(demo, "researcher"))
        assert refused.status_code == 404
        assert refused.get_json()["error"]["code"] == "visas_not_issued"
        assert client.get("/.well-known/jwks.json").get_json() == {"keys": []}
    finally:
        app.extensions["custodian.engine"].dispose()
