"""What the servers put on the wire: headers a test client never sees. Under gunicorn, the
server the service runs under (`make demo` and production alike), the Server header names
no software versions. Under gunicorn and under Werkzeug's development server (which the
tests serve on, and which writes a Date of its own), a download carries one Date header and
a gzip VCF's own type."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from core.clock import MovableClock
from datasets.catalogue.models import DataFile
from tests.conftest import DemoInstance, issue_token
from tests.gunicorn_service import Service, gunicorn_demo
from tests.integration.audit_support import grant_access


@pytest.fixture(scope="module")
def service(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with gunicorn_demo(postgres_server, tmp_path_factory.mktemp("headers")) as running:
        yield running


def raw_get(url: str) -> http.client.HTTPResponse:
    """The answer as sent, repeated headers kept apart (requests would join them)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    connection.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize("path", ["/healthz", "/", "/api/v1/datasets", "/no-such-page"])
def test_the_server_header_names_no_versions(service: Service, path: str) -> None:
    response = raw_get(f"{service.url}{path}")
    servers = response.msg.get_all("Server") or []
    assert servers == ["gunicorn"], servers
    assert not any(ch.isdigit() for ch in "".join(servers))
    assert "werkzeug" not in str(response.msg).lower()
    assert "python" not in str(response.msg).lower()


def controlled_vcf(demo: DemoInstance) -> int:
    """Access granted to the researcher; the controlled gzip VCF's file id."""
    grant_access(demo)
    with demo.app.extensions["custodian.session_factory"]() as session:
        vcf: int | None = session.scalars(
            select(DataFile.id).where(DataFile.tier == "controlled", DataFile.name.like("%.vcf.gz"))
        ).first()
    assert vcf is not None
    return vcf


def assert_one_date_and_gzip(base_url: str, file_id: int, token: dict[str, str]) -> None:
    issued = requests.get(f"{base_url}/api/v1/files/{file_id}/url", headers=token, timeout=10)
    assert issued.status_code == 200, issued.text
    served = raw_get(issued.json()["url"])
    assert served.status == 200
    assert len(served.msg.get_all("Date") or []) == 1, str(served.msg)
    assert served.msg["Content-Type"] == "application/gzip"


def test_a_download_under_gunicorn_has_one_date_and_the_gzip_type(service: Service) -> None:
    with service.app() as app:
        vcf = controlled_vcf(DemoInstance(app, MovableClock(), service.settings, service.url))
    assert_one_date_and_gzip(service.url, vcf, service.token("researcher"))


def test_a_download_under_the_development_server_has_one_date(live: DemoInstance) -> None:
    assert_one_date_and_gzip(live.base_url, controlled_vcf(live), issue_token(live, "researcher"))
