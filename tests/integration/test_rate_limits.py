"""Rate limits: sign-in, bad tokens, bad download signatures, URL issuance, DRS and the demo
IdP answer 429 in the error shape with Retry-After once over; the first refusal in a window
is audited and counts toward the refusal alert; with Redis, instances share the counts."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from audit.log.models import AuditEvent
from config import SettingsError, load_settings
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import controlled_files, grant_access
from tests.integration.test_api_bad_input import assert_error_shape

BAD = {"Authorization": "Bearer cus_not-a-real-token"}


@contextmanager
def limited(demo: DemoInstance, storage: str = "memory://", alert_after: int = 10,
            **limits: str) -> Iterator[Flask]:
    """The demo's database and clock, served by an app with these limits."""
    settings = dataclasses.replace(demo.settings, rate_limit_storage=storage,
                                   rate_limits={**demo.settings.rate_limits, **limits},
                                   alert_refusals_per_hour=alert_after)
    app = create_app(settings, clock=demo.clock)
    try:
        yield app
    finally:
        app.extensions["custodian.engine"].dispose()


def events(demo: DemoInstance, action: str) -> list[AuditEvent]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def assert_429(response: object) -> int:
    error = assert_error_shape(response, 429)
    assert error["code"] == "rate_limited"
    retry_after = int(response.headers["Retry-After"])  # type: ignore[attr-defined]
    assert 1 <= retry_after <= 3600 and error["details"]["retry_after"] == retry_after
    return retry_after


def test_bad_tokens_are_limited_and_the_first_refusal_audited(demo: DemoInstance) -> None:
    with limited(demo, bad_tokens="3/minute", alert_after=3) as app:
        client = app.test_client()
        good = issue_token(demo, "researcher")
        assert client.get("/api/v1/users/me", headers=good).status_code == 200
        for _ in range(3):
            assert_error_shape(client.get("/api/v1/users/me", headers=BAD), 401)
        for _ in range(5):
            assert_429(client.get("/api/v1/users/me", headers=BAD))
        # From that address, no token is even looked up until the window passes.
        assert_429(client.get("/api/v1/users/me", headers=good))
    limited_events = events(demo, "rate:limited")
    assert len(limited_events) == 1
    assert limited_events[0].outcome == "denied"
    assert limited_events[0].details == {"limit": "bad_tokens", "path": "/api/v1/users/me"}
    alerts = events(demo, "audit:alert")
    assert alerts and alerts[-1].details["kind"] == "refusals_per_hour"


def test_good_tokens_alone_never_meet_the_bad_token_limit(demo: DemoInstance) -> None:
    with limited(demo, bad_tokens="2/minute") as app:
        client = app.test_client()
        good = issue_token(demo, "researcher")
        for _ in range(10):
            assert client.get("/api/v1/users/me", headers=good).status_code == 200


def test_sign_in_and_callback_are_limited(demo: DemoInstance) -> None:
    with limited(demo, sign_in="4/minute") as app:
        client = app.test_client()
        for _ in range(3):
            assert client.get("/auth/login").status_code in (302, 502)  # no IdP served
        assert client.get("/auth/callback?code=x&state=y").status_code in (400, 502)
        page = client.get("/auth/login")
        assert page.status_code == 429 and "Too many requests" in page.get_data(as_text=True)
        refused = client.get("/auth/callback?code=x&state=y")
        assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_url_issuance_is_limited_per_person(demo: DemoInstance) -> None:
    grant_access(demo)
    _, files = controlled_files(demo)
    with limited(demo, urls="3/minute") as app:
        client = app.test_client()
        researcher = issue_token(demo, "researcher")
        for _ in range(3):
            assert client.get(f"/api/v1/files/{files[0]}/url", headers=researcher
                              ).status_code == 200
        assert_429(client.get(f"/api/v1/files/{files[0]}/url", headers=researcher))
        drs = client.get(f"/ga4gh/drs/v1/objects/{files[0]}/access/https", headers=researcher)
        assert drs.status_code == 429 and set(drs.get_json()) == {"msg", "status_code"}
        # Another person is not held back by the first one's downloads.
        other = issue_token(demo, "researcher2")
        assert client.get(f"/api/v1/files/{files[0]}/url", headers=other).status_code == 403


def test_drs_is_limited_per_address(demo: DemoInstance) -> None:
    with limited(demo, drs="5/minute") as app:
        client = app.test_client()
        for _ in range(5):
            assert client.get("/ga4gh/drs/v1/service-info").status_code == 200
        refused = client.get("/ga4gh/drs/v1/service-info")
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert refused.get_json()["status_code"] == 429


def test_forged_download_signatures_are_limited(demo: DemoInstance) -> None:
    with limited(demo, bad_urls="3/minute") as app:
        client = app.test_client()
        forged = "/storage/x.vcf.gz?expires=9999999999&user=1&signature=" + "0" * 64
        for _ in range(3):
            assert_error_shape(client.get(forged), 403)
        assert_429(client.get(forged))


def test_unknown_personas_at_the_demo_idp_are_limited(demo: DemoInstance) -> None:
    with limited(demo, dev_idp="3/minute") as app:
        client = app.test_client()
        for _ in range(3):
            assert client.post("/dev-idp/token", data={"grant_type": "authorization_code",
                                                       "code": "guess", "client_id": "custodian",
                                                       "client_secret": "guess"}
                               ).status_code in (400, 401)
        refused = client.get("/dev-idp/.well-known/openid-configuration")
        assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_limits_recover_without_a_restart(demo: DemoInstance) -> None:
    with limited(demo, bad_tokens="2/second") as app:
        client = app.test_client()
        for _ in range(2):
            client.get("/api/v1/users/me", headers=BAD)
        wait = assert_429(client.get("/api/v1/users/me", headers=BAD))
        time.sleep(wait + 0.1)
        assert_error_shape(client.get("/api/v1/users/me", headers=BAD), 401)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    from tests.redis_server import running_redis

    with running_redis() as url:
        yield url


def test_instances_sharing_redis_share_the_counts(demo: DemoInstance, redis_url: str) -> None:
    import redis

    with redis.Redis(unix_socket_path=redis_url.removeprefix("redis+unix://")) as counters:
        counters.flushall()  # counts of the other backend's run
    with limited(demo, redis_url, bad_tokens="4/minute") as one, \
            limited(demo, redis_url, bad_tokens="4/minute") as two:
        first, second = one.test_client(), two.test_client()
        for client in (first, second, first, second):
            assert_error_shape(client.get("/api/v1/users/me", headers=BAD), 401)
        assert_429(first.get("/api/v1/users/me", headers=BAD))
        assert_429(second.get("/api/v1/users/me", headers=BAD))


def test_an_unreachable_counter_store_does_not_stop_the_service(demo: DemoInstance) -> None:
    from tests.ports import HeldPort

    nothing_listens = HeldPort()  # bound, never listening: connections are refused
    with limited(demo, f"redis://127.0.0.1:{nothing_listens.number}/0",
                 bad_tokens="1/minute") as app:
        client = app.test_client()
        assert client.get("/api/v1/users/me", headers=issue_token(demo, "researcher")
                          ).status_code == 200
        for _ in range(3):
            assert_error_shape(client.get("/api/v1/users/me", headers=BAD), 401)


@pytest.mark.parametrize("variable, value", [
    ("RATE_LIMIT_SIGN_IN", "lots"), ("RATE_LIMIT_URLS", "10/fortnight"),
    ("RATE_LIMIT_STORAGE", "memcached://x"),
])
def test_a_malformed_limit_stops_start_up(tmp_path: object, variable: str, value: str) -> None:
    overrides: Mapping[str, str] = {"ENV": "demo", "INSTANCE_DIR": str(tmp_path),
                                    variable: value}
    with pytest.raises(SettingsError, match=f"CUSTODIAN_{variable}"):
        load_settings(environ={}, overrides=overrides)
