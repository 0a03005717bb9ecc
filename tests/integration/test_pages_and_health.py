"""Health probes, security headers, CSRF on forms, friendly error pages."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from access.requests.models import AccessRequest
from tests.conftest import DemoInstance


def test_healthz_and_readyz_answer_json(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "storage": "ok", "audit": "ok", "audit_sequencer": "ok"},
        "figures": {"audit_sequencer": {"unchained": 0, "oldest_seconds": 0.0}},
    }


def test_readyz_reports_missing_storage(demo: DemoInstance) -> None:
    shutil.rmtree(demo.settings.storage_root)
    ready = demo.app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["storage"] == "unavailable"


def test_every_response_carries_security_headers_and_a_request_id(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    for path in ("/", "/api/v1/datasets", "/no-such-page"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert len(response.headers["X-Request-ID"]) >= 8


def test_unknown_page_is_a_friendly_html_404(demo: DemoInstance) -> None:
    response = demo.app.test_client().get("/datasets/9999")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not found" in response.get_data(as_text=True)


def test_the_site_icon_is_named_by_pages_and_served_at_favicon_ico(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    page = client.get("/").get_data(as_text=True)
    named = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', page)
    assert named is not None
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.data.startswith(b"<svg") and icon.data == client.get(named.group(1)).data
    assert "max-age=86400" in icon.headers["Cache-Control"]


def test_pages_that_need_a_user_redirect_to_sign_in(demo: DemoInstance) -> None:
    response = demo.app.test_client().get("/requests/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=%2Frequests%2Fnew")


def test_catalogue_and_dataset_pages_show_data_use_and_checksums(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    home = client.get("/").get_data(as_text=True)
    assert "phs000424" in home and "GRU" in home
    page = client.get("/datasets/1").get_data(as_text=True)
    assert "general research use" in page
    assert "GTEx_demo.genotypes.vcf.gz" in page
    assert "Download</button>" not in page  # no grant, not signed in: no download button
    assert "Sign in</a> to request access" in page


def signed_in_client(demo: DemoInstance, username: str, app: Flask | None = None) -> FlaskClient:
    """A test client (of ``app``, by default the demo's) signed in as the persona: a live
    server-side session, its id and flask-login's user key in the cookie, and a known CSRF
    token."""
    from access.identity.models import User
    from access.identity.sessions import SessionTerms, start_session

    client = (app or demo.app).test_client()
    terms = SessionTerms(
        idle=timedelta(minutes=demo.settings.session_idle_minutes),
        absolute=timedelta(hours=demo.settings.session_max_hours),
    )
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        user = session.scalars(select(User).where(User.subject == username)).one()
        user_id = user.id
        session_id = start_session(session, user, terms=terms, now=demo.clock.now())
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = str(user_id)
        flask_session["sid"] = session_id
        flask_session["csrf_token"] = "known-token"
    return client


def request_count(demo: DemoInstance) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return session.scalar(select(func.count()).select_from(AccessRequest)) or 0


def test_state_changing_form_without_csrf_token_is_refused(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    form = {
        "title": "Valid title",
        "dataset_ids": "1",
        "research_use_statement": "Long enough research use statement here.",
    }
    refused = client.post("/requests/new", data=form)
    assert refused.status_code == 400
    page = "The form was stale or not sent by this site (CSRF check failed)."
    assert page in refused.get_data(as_text=True)
    wrong = client.post("/requests/new", data={**form, "csrf_token": "guess"})
    assert wrong.status_code == 400 and page in wrong.get_data(as_text=True)
    assert request_count(demo) == 0
    accepted = client.post("/requests/new", data={**form, "csrf_token": "known-token"})
    assert accepted.status_code == 302
    assert request_count(demo) == 1


def test_request_form_with_bad_input_shows_errors_and_saves_nothing(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    response = client.post("/requests/new", data={"title": "", "csrf_token": "known-token"})
    assert response.status_code == 400
    assert "field-error" in response.get_data(as_text=True)
    assert request_count(demo) == 0


def test_download_button_needs_csrf(demo: DemoInstance) -> None:
    client = signed_in_client(demo, "researcher")
    assert client.post("/files/6/download").status_code == 400
    issued = client.post("/files/6/download", data={"csrf_token": "known-token"})
    assert issued.status_code == 303  # an open file: off to its signed URL
    assert "/storage/" in issued.headers["Location"]


def test_forwarded_client_address_is_believed_only_behind_a_trusted_proxy(
    demo: DemoInstance,
) -> None:
    from dataclasses import replace

    from app import create_app
    from audit.log.models import AuditEvent

    def refused_ip(trusted_proxies: int) -> str | None:
        app = create_app(replace(demo.settings, trusted_proxies=trusted_proxies), clock=demo.clock)
        app.test_client().get(
            "/api/v1/files/1/url",
            headers={"X-Forwarded-For": "203.0.113.9"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
        with app.extensions["custodian.session_factory"]() as session:
            event = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "url:refuse")
                .order_by(AuditEvent.seq.desc())
            ).first()
        app.extensions["custodian.engine"].dispose()
        return event.ip if event else None

    assert refused_ip(0) == "10.0.0.2"
    assert refused_ip(1) == "203.0.113.9"
