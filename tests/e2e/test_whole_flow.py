"""The whole job over real HTTP: sign in through the embedded IdP, request, approve, download."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from sqlalchemy import func, select

from audit.log.models import AuditEvent
from datasets.catalogue.models import DataFile
from tests.agreements import accept_over_http
from tests.conftest import DemoInstance, csrf_header, sign_in

STATEMENT = "We study tissue-specific regulation of gene expression in ageing adults."


def controlled_dataset_and_file(base: str) -> tuple[int, dict[str, object]]:
    datasets = requests.get(f"{base}/api/v1/datasets", timeout=10).json()["datasets"]
    controlled = next(d for d in datasets if d["tier"] == "controlled")
    detail = requests.get(f"{base}/api/v1/datasets/{controlled['id']}", timeout=10).json()
    genotype = next(f for f in detail["files"] if f["kind"] == "genotype")
    return controlled["id"], genotype


def approve_access(base: str, applicant: str = "researcher") -> tuple[requests.Session, int, int]:
    """Researcher files and submits, the signing official endorses, the chair approves.
    Returns the researcher's session."""
    dataset_id, _ = controlled_dataset_and_file(base)
    researcher = sign_in(base, applicant)
    headers = csrf_header(researcher, base)
    filed = researcher.post(f"{base}/api/v1/requests", headers=headers, timeout=10, json={
        "title": "Ageing eQTLs", "research_use_statement": STATEMENT, "dataset_ids": [dataset_id]})
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    assert filed.json()["state"] == "draft"
    submitted = researcher.post(f"{base}/api/v1/requests/{request_id}/submit", headers=headers,
                                timeout=10)
    assert submitted.json()["state"] == "submitted"

    official = sign_in(base, "signing-official")
    endorsed = official.post(f"{base}/api/v1/requests/{request_id}/endorse",
                             headers=csrf_header(official, base), timeout=10)
    assert endorsed.status_code == 200, endorsed.text
    assert endorsed.json()["state"] == "endorsed"

    chair = sign_in(base, "dac-chair")
    approved = chair.post(f"{base}/api/v1/requests/{request_id}/approve",
                          headers=csrf_header(chair, base), timeout=10,
                          json={"reason": "Consistent with GRU consent.", "days": 30})
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    accept_over_http(researcher, base, dataset_id, headers)
    return researcher, request_id, dataset_id


def test_researcher_requests_chair_approves_researcher_downloads_exact_bytes(
    live: DemoInstance,
) -> None:
    base = live.base_url
    researcher, _, _ = approve_access(base)
    _, genotype = controlled_dataset_and_file(base)

    issued = researcher.get(f"{base}/api/v1/files/{genotype['id']}/url", timeout=10)
    assert issued.status_code == 200, issued.text
    # The URL itself is the credential: a plain client with no cookie fetches it.
    download = requests.get(issued.json()["url"], timeout=30)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == genotype["sha256"]
    assert len(download.content) == genotype["size"]

    with live.app.extensions["custodian.session_factory"]() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    for expected in ("auth:login", "request:create", "request:submit", "request:approve",
                     "grant:create", "url:issue", "file:serve"):
        assert expected in actions, expected


def test_api_token_drives_the_api_without_a_session(live: DemoInstance) -> None:
    base = live.base_url
    researcher, request_id, _ = approve_access(base)
    created = researcher.post(f"{base}/api/v1/tokens", headers=csrf_header(researcher, base),
                              json={"name": "script", "scopes": ["requests", "download"]},
                              timeout=10)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    shown = requests.get(f"{base}/api/v1/requests/{request_id}", headers=bearer, timeout=10)
    assert shown.status_code == 200 and shown.json()["state"] == "approved"
    bad = requests.get(f"{base}/api/v1/requests/{request_id}",
                       headers={"Authorization": f"Bearer {token}x"}, timeout=10)
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "not_authenticated"


def test_without_grant_url_is_refused_and_refusal_audited(live: DemoInstance) -> None:
    base = live.base_url
    _, genotype = controlled_dataset_and_file(base)
    outsider = sign_in(base, "researcher2")
    refused = outsider.get(f"{base}/api/v1/files/{genotype['id']}/url", timeout=10)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    anonymous = requests.get(f"{base}/api/v1/files/{genotype['id']}/url", timeout=10)
    assert anonymous.status_code == 401

    with live.app.extensions["custodian.session_factory"]() as session:
        refusals = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "url:refuse").order_by(AuditEvent.seq)
        ).all()
    assert [r.outcome for r in refusals] == ["denied", "denied"]
    assert refusals[0].actor_subject == "researcher2"
    assert refusals[0].target_id == str(genotype["id"])


def tamper(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    path = changes.pop("path", parts.path)
    query.update(changes)
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def test_tampered_and_expired_urls_serve_nothing(live: DemoInstance) -> None:
    base = live.base_url
    researcher, _, _ = approve_access(base)
    _, genotype = controlled_dataset_and_file(base)
    url = researcher.get(f"{base}/api/v1/files/{genotype['id']}/url",
                         params={"expires_in": 60}, timeout=10).json()["url"]
    query = dict(parse_qsl(urlsplit(url).query))

    for forged in (
        tamper(url, user="999"),
        tamper(url, expires=str(int(query["expires"]) + 3600)),
        tamper(url, signature="0" * 64),
        tamper(url, path=urlsplit(url).path.replace(".vcf.gz", ".gene_tpm.gct.gz")),
        tamper(url, path="/storage/phs000424/..%2F..%2Fdemo-secrets.json"),
    ):
        response = requests.get(forged, timeout=10)
        assert response.status_code in (403, 404), forged
        assert response.headers["Content-Type"].startswith("application/json")
        assert b"BEGIN" not in response.content and b"fileformat" not in response.content

    assert requests.get(url, timeout=10).status_code == 200
    live.clock.advance(timedelta(seconds=61))
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 403
    assert "expired" in expired.json()["error"]["message"]


def test_signed_url_for_a_path_outside_storage_serves_nothing(live: DemoInstance) -> None:
    """Even a validly signed key cannot climb out of the storage root."""
    storage = live.app.extensions["custodian.storage"]
    expires_at = live.clock.now() + timedelta(minutes=5)
    for key in ("../demo-secrets.json", "phs000424/../../demo-secrets.json",
                "/etc/passwd"):
        url = storage.signed_url(key, user="1", expires_at=expires_at, filename="x")
        response = requests.get(url, timeout=10)
        assert response.status_code in (403, 404), key
        assert b"SECRET_KEY" not in response.content and b"root:" not in response.content


def test_range_request_returns_only_the_asked_bytes(live: DemoInstance) -> None:
    base = live.base_url
    researcher, _, _ = approve_access(base)
    _, genotype = controlled_dataset_and_file(base)
    url = researcher.get(f"{base}/api/v1/files/{genotype['id']}/url", timeout=10).json()["url"]
    whole = requests.get(url, timeout=10).content
    part = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206
    assert part.content == whole[100:200]


def test_expired_grant_stops_the_next_url_request(live: DemoInstance) -> None:
    base = live.base_url
    researcher, _, _ = approve_access(base)  # approved for 30 days
    _, genotype = controlled_dataset_and_file(base)
    # A browser session ends within hours; a script's token outlives the grant here.
    token = researcher.post(f"{base}/api/v1/tokens", headers=csrf_header(researcher, base),
                            json={"name": "job", "days": 60, "scopes": ["download"]},
                            timeout=10).json()["token"]
    script = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{base}/api/v1/files/{genotype['id']}/url", headers=script,
                        timeout=10).ok
    live.clock.advance(timedelta(days=30, seconds=1))
    assert requests.get(f"{base}/api/v1/files/{genotype['id']}/url", headers=script,
                        timeout=10).status_code == 403


def test_other_users_request_is_invisible_and_cannot_be_acted_on(live: DemoInstance) -> None:
    base = live.base_url
    dataset_id, _ = controlled_dataset_and_file(base)
    owner = sign_in(base, "researcher")
    filed = owner.post(f"{base}/api/v1/requests", headers=csrf_header(owner, base), timeout=10,
                       json={"title": "Mine", "research_use_statement": STATEMENT,
                             "dataset_ids": [dataset_id]}).json()
    other = sign_in(base, "researcher2")
    headers = csrf_header(other, base)
    assert other.get(f"{base}/api/v1/requests/{filed['id']}", timeout=10).status_code == 404
    submit = other.post(f"{base}/api/v1/requests/{filed['id']}/submit", headers=headers,
                        timeout=10)
    assert submit.status_code == 404
    # The committee sees it only once the signing official endorsed it; a member who is not
    # the chair then sees it but cannot decide it.
    owner.post(f"{base}/api/v1/requests/{filed['id']}/submit",
               headers=csrf_header(owner, base), timeout=10)
    member = sign_in(base, "dac-member")
    assert member.get(f"{base}/api/v1/requests/{filed['id']}", timeout=10).status_code == 404
    official = sign_in(base, "signing-official")
    assert official.post(f"{base}/api/v1/requests/{filed['id']}/endorse", timeout=10,
                         headers=csrf_header(official, base)).status_code == 200
    decided = member.post(f"{base}/api/v1/requests/{filed['id']}/approve",
                          headers=csrf_header(member, base), timeout=10,
                          json={"reason": "ok", "days": 10})
    assert decided.status_code == 403
    assert owner.get(f"{base}/api/v1/requests/{filed['id']}",
                     timeout=10).json()["state"] == "endorsed"


def test_open_tier_file_downloads_without_sign_in(live: DemoInstance) -> None:
    base = live.base_url
    datasets = requests.get(f"{base}/api/v1/datasets", timeout=10).json()["datasets"]
    open_set = next(d for d in datasets if d["tier"] == "open")
    files = requests.get(f"{base}/api/v1/datasets/{open_set['id']}", timeout=10).json()["files"]
    issued = requests.get(f"{base}/api/v1/files/{files[0]['id']}/url", timeout=10)
    assert issued.status_code == 200
    body = requests.get(issued.json()["url"], timeout=10).content
    assert hashlib.sha256(body).hexdigest() == files[0]["sha256"]


def test_catalogue_records_size_and_checksums_of_stored_bytes(live: DemoInstance) -> None:
    with live.app.extensions["custodian.session_factory"]() as session:
        files = session.scalars(select(DataFile)).all()
        assert session.scalar(select(func.count()).select_from(DataFile)) >= 8
    storage_root = live.settings.storage_root
    for data_file in files:
        content = (storage_root / data_file.storage_key).read_bytes()
        assert len(content) == data_file.size
        assert hashlib.sha256(content).hexdigest() == data_file.sha256
        assert hashlib.md5(content, usedforsecurity=False).hexdigest() == data_file.md5
