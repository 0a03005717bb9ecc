"""The headers every answer carries, and those a mature service adds where they matter."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import DemoInstance, demo_settings, issue_token
from tests.integration.test_pages_and_health import signed_in_client


def test_pages_and_json_carry_browser_policies_and_no_store(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    for path in ("/", "/requests", "/api/v1/users/me", "/api/v1/datasets", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200, path
        headers = response.headers
        assert headers["Cache-Control"] == "no-store", path
        assert "camera=()" in headers["Permissions-Policy"]
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
        policy = headers["Content-Security-Policy"]
        assert "form-action 'self'" in policy and "base-uri 'none'" in policy
        assert "Strict-Transport-Security" not in headers  # demo mode is plain HTTP


def test_hsts_outside_demo_mode(demo: DemoInstance) -> None:
    settings = demo.settings
    production_like = create_app(settings.__class__(**{
        **settings.__dict__, "environment": "production", "dev_idp_enabled": False}))
    response = production_like.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    production_like.extensions["custodian.engine"].dispose()


@pytest.mark.parametrize("method, path, allowed", [
    ("PUT", "/api/v1/tokens", {"GET", "POST"}),
    ("DELETE", "/api/v1/datasets", {"GET"}),
    ("POST", "/ga4gh/drs/v1/service-info", {"GET"}),
    ("PUT", "/requests", {"GET"}),
])
def test_405_names_the_allowed_methods(demo: DemoInstance, method: str, path: str,
                                       allowed: set[str]) -> None:
    response = demo.app.test_client().open(path, method=method,
                                           headers=issue_token(demo, "researcher"))
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_download_button_may_lead_to_the_object_store(demo: DemoInstance,
                                                        tmp_path: object) -> None:
    from pathlib import Path

    instance = Path(str(tmp_path)) / "s3-instance"
    settings = demo_settings(instance, 5999)
    s3 = create_app(settings.__class__(**{**settings.__dict__, "storage_backend": "s3",
                                          "s3_bucket": "b",
                                          "s3_endpoint_url": "http://127.0.0.1:9"}))
    policy = s3.test_client().get("/healthz").headers["Content-Security-Policy"]
    assert "form-action 'self' http://127.0.0.1:9 http://*.127.0.0.1:9" in policy
    s3.extensions["custodian.engine"].dispose()
