"""Passports presented with a URL request: a trusted broker's visa grants; anything else not."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from tests.conftest import issue_token
from tests.integration.passport_support import Trusting, trusting
from tests.openapi_support import assert_matches_drs_spec
from tests.passport_broker import claims_of, unsigned

__all__ = ["trusting"]
NOT_OURS = "phs999999.v1.p1.c1"


def post_url(setup: Trusting, passports: list[str], username: str = "researcher2"
             ) -> requests.Response:
    _, data_file = setup.controlled()
    return requests.post(f"{setup.base}/api/v1/files/{data_file.id}/url", json={
        "passports": passports}, headers=issue_token(setup.demo, username), timeout=10)


def test_a_trusted_brokers_visa_opens_the_dataset_for_that_request_and_is_audited(
    trusting: Trusting,
) -> None:
    setup = trusting
    dataset_id, data_file = setup.controlled()
    headers = issue_token(setup.demo, "researcher2")
    refused = requests.get(f"{setup.base}/api/v1/files/{data_file.id}/url", headers=headers,
                           timeout=10)
    assert refused.status_code == 403

    visa = setup.broker.visa("phs000424.v10.p2.c1", now=setup.now())
    issued = post_url(setup, [visa])
    assert issued.status_code == 200, issued.text
    download = requests.get(issued.json()["url"], timeout=10)
    assert hashlib.sha256(download.content).hexdigest() == data_file.sha256
    assert setup.broker.requests == ["/jwks.json"]

    [accepted] = setup.events("passport:visa_accept")
    assert accepted.target_id == str(dataset_id) and accepted.actor_subject == "researcher2"
    assert accepted.details["issuer"] == setup.broker.issuer
    assert accepted.details["jti"] == claims_of(visa)["jti"]
    assert accepted.details["visa_hash"] == hashlib.sha256(visa.encode()).hexdigest()
    assert setup.events("url:issue")[-1].details["granted_by"] == "passport"
    # The visa counted for that request only: without it, no URL.
    again = requests.get(f"{setup.base}/api/v1/files/{data_file.id}/url", headers=headers,
                         timeout=10)
    assert again.status_code == 403


def test_a_visa_may_name_the_dataset_by_its_page_url_and_come_inside_a_passport(
    trusting: Trusting,
) -> None:
    setup = trusting
    dataset_id, _ = setup.controlled()
    by_url = setup.broker.visa(f"{setup.base}/datasets/{dataset_id}", now=setup.now())
    passport = setup.broker.passport([by_url], now=setup.now())
    issued = post_url(setup, [passport])
    assert issued.status_code == 200, issued.text
    # Keys are cached: the passport and its visa needed one fetch between them.
    assert setup.broker.requests == ["/jwks.json"]


def test_a_visa_for_another_dataset_than_the_files_grants_nothing(trusting: Trusting) -> None:
    setup = trusting
    visa = setup.broker.visa("phs000424.open-results", now=setup.now())
    response = post_url(setup, [visa])
    assert response.status_code == 403
    assert response.json()["error"]["details"]["refused"][0]["reason"] == "unknown_dataset"


def hs256(setup: Trusting) -> str:
    """Signed with HMAC, keyed with the broker's public key: the classic confusion attack."""
    public = str(setup.broker.key.as_dict(private=False)["n"]).encode()
    claims = claims_of(setup.broker.visa("phs000424.v10.p2.c1", now=setup.now()))
    header = {"alg": "HS256", "kid": str(setup.broker.key.kid), "jku": setup.broker.jku}
    return jwt.encode(header, claims, OctKey.import_key(public), ["HS256"])


def alg_none(setup: Trusting) -> str:
    claims = claims_of(setup.broker.visa("phs000424.v10.p2.c1", now=setup.now()))
    return unsigned(claims, {"alg": "none", "kid": str(setup.broker.key.kid),
                             "jku": setup.broker.jku})


def forged(setup: Trusting) -> str:
    """Another key under the broker's kid."""
    other = RSAKey.generate_key(2048)
    return setup.broker.visa("phs000424.v10.p2.c1", now=setup.now(), key=other)


def by_stranger(setup: Trusting) -> str:
    return setup.stranger.visa("phs000424.v10.p2.c1", now=setup.now())


def jku_elsewhere(setup: Trusting) -> str:
    """The trusted issuer's name, but keys from a URL not on its list (the stranger's)."""
    return setup.broker.visa("phs000424.v10.p2.c1", now=setup.now(),
                             header={"jku": setup.stranger.jku}, key=setup.stranger.key)


REFUSALS: dict[str, tuple[str, Callable[[Trusting], str]]] = {
    "unknown issuer": ("untrusted_issuer", by_stranger),
    "jku off the list": ("jku_not_allowed", jku_elsewhere),
    "bad signature": ("bad_signature", forged),
    "expired": ("expired", lambda s: s.broker.visa(
        "phs000424.v10.p2.c1", now=s.now(), lifetime=timedelta(seconds=-1))),
    "asserted in the future": ("asserted_in_future", lambda s: s.broker.visa(
        "phs000424.v10.p2.c1", now=s.now(), asserted=s.now() + timedelta(hours=1))),
    "not by a dac": ("not_by_dac", lambda s: s.broker.visa(
        "phs000424.v10.p2.c1", now=s.now(), by="self")),
    "unknown conditions": ("unsupported_conditions", lambda s: s.broker.visa(
        "phs000424.v10.p2.c1", now=s.now(), extra={"conditions": [[{
            "type": "AffiliationAndRole", "value": "const:faculty@example.edu", "by": "so"}]]})),
    "dataset not ours": ("unknown_dataset", lambda s: s.broker.visa(NOT_OURS, now=s.now())),
    "alg none": ("algorithm_not_allowed", alg_none),
    "alg HS256": ("algorithm_not_allowed", hs256),
    "not a JWT": ("malformed", lambda s: "not-a-jwt"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_visa_refuses_the_request_with_its_reason_and_is_audited(
    trusting: Trusting, case: str,
) -> None:
    setup = trusting
    reason, make = REFUSALS[case]
    response = post_url(setup, [make(setup)])
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "passport_refused"
    assert error["details"]["refused"] == [{"kind": "visa" if reason != "malformed"
                                            else "passport", "position": 1, "reason": reason}]
    [refusal] = setup.events("passport:visa_refuse")
    assert refusal.outcome == "denied" and refusal.actor_subject == "researcher2"
    assert refusal.details["refused"][0]["reason"] == reason
    assert setup.events("url:issue") == [] and setup.events("passport:visa_accept") == []
    # Nobody ever fetched the stranger's keys, whatever the token claimed.
    assert setup.stranger.requests == []
    if reason in ("untrusted_issuer", "jku_not_allowed", "algorithm_not_allowed", "malformed"):
        assert setup.broker.requests == []


def test_one_bad_visa_among_good_ones_refuses_the_whole_request(trusting: Trusting) -> None:
    setup = trusting
    good = setup.broker.visa("phs000424.v10.p2.c1", now=setup.now())
    bad = setup.broker.visa("phs000424.v10.p2.c1", now=setup.now(), by="peer")
    response = post_url(setup, [good, bad])
    assert response.status_code == 403
    assert response.json()["error"]["details"]["refused"] == [
        {"kind": "visa", "position": 2, "reason": "not_by_dac"}]
    assert "visa 2" in response.json()["error"]["message"]


def test_a_bulk_request_over_the_limit_is_413_before_any_visa_is_checked(
    trusting: Trusting,
) -> None:
    setup = trusting
    _, data_file = setup.controlled()
    limit = setup.demo.settings.drs_max_bulk_request_length
    visa = setup.broker.visa("phs000424.v10.p2.c1", now=setup.now())
    response = requests.post(
        f"{setup.base}/ga4gh/drs/v1/objects/access", timeout=10,
        headers=issue_token(setup.demo, "researcher2"), json={
            "passports": [visa], "bulk_object_access_ids": [{
                "bulk_object_id": str(data_file.id),
                "bulk_access_ids": ["signed-url"] * (limit + 1)}]})
    assert response.status_code == 413, response.text
    assert setup.broker.requests == []
    assert setup.events("passport:visa_accept") == [] and setup.events("url:issue") == []


def test_visas_of_other_types_are_passed_over_and_fetch_nothing(trusting: Trusting) -> None:
    setup = trusting
    role = setup.stranger.visa("faculty@example.edu", now=setup.now(),
                               visa_type="AffiliationAndRole")
    response = post_url(setup, [role])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"  # no grant; the visa was no grant
    assert setup.stranger.requests == []


def test_passports_need_a_signed_in_caller_and_a_well_formed_body(trusting: Trusting) -> None:
    setup = trusting
    _, data_file = setup.controlled()
    url = f"{setup.base}/api/v1/files/{data_file.id}/url"
    visa = setup.broker.visa("phs000424.v10.p2.c1", now=setup.now())
    anonymous = requests.post(url, json={"passports": [visa]}, timeout=10)
    assert anonymous.status_code == 400  # no session, no token: the CSRF check refuses first
    assert setup.broker.requests == []
    headers = issue_token(setup.demo, "researcher2")
    bodies: list[dict[str, object]] = [
        {}, {"passports": []}, {"passports": "x"}, {"passports": [1]},
        {"passports": ["x" * 20000]}]
    for body in bodies:
        bad = requests.post(url, json=body, headers=headers, timeout=10)
        assert bad.status_code == 400, (body, bad.text)
        assert bad.json()["error"]["code"] == "invalid_input"


def test_an_unreachable_jku_refuses_with_keys_unavailable(trusting: Trusting) -> None:
    setup = trusting
    visa = setup.broker.visa("phs000424.v10.p2.c1", now=setup.now())
    setup.broker.stop()
    response = post_url(setup, [visa])
    assert response.status_code == 403
    assert response.json()["error"]["details"]["refused"][0]["reason"] == "keys_unavailable"


def test_an_es256_broker_is_accepted_too(trusting: Trusting) -> None:
    setup = trusting
    setup.broker.key = ECKey.generate_key("P-256")  # served at the same jku from now on
    setup.broker.key.ensure_kid()
    setup.broker.algorithm = "ES256"
    visa = setup.broker.visa("phs000424.v10.p2.c1", now=setup.now())
    assert claims_of(visa)["ga4gh_visa_v1"]["by"] == "dac"
    assert post_url(setup, [visa]).status_code == 200


def test_drs_access_with_a_trusted_visa_signs_a_url_and_a_bad_one_is_a_drs_403(
    trusting: Trusting,
) -> None:
    setup = trusting
    dataset_id, data_file = setup.controlled()
    headers = issue_token(setup.demo, "researcher2")
    drs = f"{setup.base}/ga4gh/drs/v1"
    options = requests.options(f"{drs}/objects/{data_file.id}", timeout=10).json()
    assert options["passport_auth_issuers"] == [setup.broker.issuer, setup.base]
    assert "PassportAuth" in options["supported_types"]

    without = requests.post(f"{drs}/objects/{data_file.id}/access/signed-url", json={},
                            headers=headers, timeout=10)
    assert without.status_code == 403
    visa = setup.broker.visa("phs000424.v10.p2.c1", now=setup.now())
    single = requests.post(f"{drs}/objects/{data_file.id}/access/signed-url",
                           json={"passports": [visa]}, headers=headers, timeout=10)
    assert single.status_code == 200, single.text
    assert_matches_drs_spec("/objects/{object_id}/access/{access_id}", "post", 200,
                            single.json())
    download = requests.get(single.json()["url"], timeout=10)
    assert hashlib.sha256(download.content).hexdigest() == data_file.sha256
    bulk = requests.post(f"{drs}/objects/access", headers=headers, timeout=10, json={
        "passports": [visa], "bulk_object_access_ids": [
            {"bulk_object_id": str(data_file.id), "bulk_access_ids": ["signed-url"]}]})
    assert bulk.status_code == 200 and bulk.json()["summary"]["resolved"] == 1, bulk.text
    assert [event.details["granted_by"] for event in setup.events("url:issue")[-2:]] == \
        ["passport", "passport"]
    assert {event.target_id for event in setup.events("passport:visa_accept")} == \
        {str(dataset_id)}

    forged = setup.broker.visa("phs000424.v10.p2.c1", now=setup.now(), by="peer")
    refused = requests.post(f"{drs}/objects/{data_file.id}/access/signed-url",
                            json={"passports": [forged]}, headers=headers, timeout=10)
    assert refused.status_code == 403
    assert set(refused.json()) == {"msg", "status_code"} and "not_by_dac" in refused.json()["msg"]
    assert setup.events("url:issue")[-1].details["granted_by"] == "passport"  # nothing new
