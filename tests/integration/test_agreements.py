"""Data-use agreements: a new version blocks downloads until accepted; bad input changes nothing."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from access.identity.actor import Actor
from access.identity.models import User
from access.models import Committee
from access.requests.applicant import submit_request
from access.requests.endorsement import endorse_request
from access.requests.filing import create_request
from access.requests.review import approve_request
from audit.log.models import AuditEvent
from datasets.agreements.models import AgreementAcceptance, DataUseAgreement
from datasets.catalogue.models import DataFile, FileKind, Study, Tier
from datasets.catalogue.queries import CatalogueDirectory
from datasets.catalogue.registration import ensure_dataset, register_file
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import STATEMENT, controlled_files, grant_access
from tests.integration.test_pages_and_health import signed_in_client

NEW_TEXT = "Version two: also report every publication to the committee within 30 days."


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


@pytest.fixture
def admin(demo: DemoInstance) -> dict[str, str]:
    return issue_token(demo, "admin")


@pytest.fixture
def researcher(demo: DemoInstance) -> dict[str, str]:
    return issue_token(demo, "researcher")


def counts(demo: DemoInstance) -> tuple[int, int]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return (session.scalar(select(func.count()).select_from(DataUseAgreement)) or 0,
                session.scalar(select(func.count()).select_from(AgreementAcceptance)) or 0)


def last_event(demo: DemoInstance, action: str) -> AuditEvent:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found = session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.seq.desc())).first()
    assert isinstance(found, AuditEvent), action
    return found


def download(client: FlaskClient, headers: dict[str, str], file_id: int) -> Any:
    """Issue a URL and fetch it through the app: returns the bytes, or the refusal."""
    issued = client.get(f"/api/v1/files/{file_id}/url", headers=headers)
    if issued.status_code != 200:
        return issued
    parts = urlsplit(issued.get_json()["url"])
    fetched = client.get(f"{parts.path}?{parts.query}")
    assert fetched.status_code == 200
    return fetched.data


def file_sha256(demo: DemoInstance, file_id: int) -> str:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found = session.get(DataFile, file_id)
        assert found is not None
        digest: str = found.sha256
        return digest


def test_new_version_blocks_downloads_until_accepted(
    demo: DemoInstance, client: FlaskClient, admin: dict[str, str], researcher: dict[str, str]
) -> None:
    dataset_id = grant_access(demo)  # approves and accepts version 1
    file_id = controlled_files(demo)[1][0]
    first = download(client, researcher, file_id)
    assert hashlib.sha256(first).hexdigest() == file_sha256(demo, file_id)

    published = client.post(f"/api/v1/datasets/{dataset_id}/agreements", headers=admin,
                            json={"text": NEW_TEXT})
    assert published.status_code == 201, published.get_json()
    assert published.get_json()["version"] == 2
    assert published.get_json()["sha256"] == hashlib.sha256(NEW_TEXT.encode()).hexdigest()
    assert last_event(demo, "admin:agreement_publish").details["version"] == 2

    refused = download(client, researcher, file_id)
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "agreement_not_accepted"
    assert error["details"] == {
        "dataset_id": dataset_id, "version": 2, "accept_at": f"/datasets/{dataset_id}/agreement",
        "accept_api": f"/api/v1/datasets/{dataset_id}/agreement/accept"}
    assert f"Accept version 2 of the data-use agreement of dataset {dataset_id}" in error[
        "message"]
    refusal = last_event(demo, "url:refuse")
    assert refusal.outcome == "denied"
    assert refusal.details["reason"] == "agreement_not_accepted"
    assert refusal.details["version"] == 2

    status = client.get(f"/api/v1/datasets/{dataset_id}/agreement", headers=researcher)
    assert status.get_json()["accepted"] is False and status.get_json()["text"] == NEW_TEXT
    accepted = client.post(f"/api/v1/datasets/{dataset_id}/agreement/accept",
                           headers=researcher,
                           json={"version": 2, "sha256": status.get_json()["sha256"]})
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["accepted"] is True
    again = download(client, researcher, file_id)
    assert hashlib.sha256(again).hexdigest() == file_sha256(demo, file_id)


def test_acceptance_records_the_hash_and_the_time(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str]
) -> None:
    dataset_id, _ = controlled_files(demo)
    current = client.get(f"/api/v1/datasets/{dataset_id}/agreement", headers=researcher)
    body = current.get_json()
    assert body["version"] == 1 and body["accepted"] is False
    assert body["sha256"] == hashlib.sha256(body["text"].encode()).hexdigest()
    demo.clock.advance(timedelta(seconds=90))
    accepted = client.post(f"/api/v1/datasets/{dataset_id}/agreement/accept", headers=researcher,
                           json={"version": 1, "sha256": body["sha256"].upper()})
    assert accepted.status_code == 200, accepted.get_json()
    with demo.app.extensions["custodian.session_factory"]() as session:
        row = session.scalars(select(AgreementAcceptance)).one()
        user = session.scalars(select(User).where(User.subject == "researcher")).one()
    assert (row.user_id, row.sha256, row.accepted_at) == (user.id, body["sha256"],
                                                          demo.clock.now())
    event = last_event(demo, "agreement:accept")
    assert event.actor_user_id == user.id
    assert event.details == {"agreement_id": row.agreement_id, "version": 1,
                             "sha256": body["sha256"]}
    # Accepting again is a no-op: still one row, one event.
    assert client.post(f"/api/v1/datasets/{dataset_id}/agreement/accept", headers=researcher,
                       json={"version": 1, "sha256": body["sha256"]}).status_code == 200
    assert counts(demo)[1] == 1


def test_old_version_is_refused_with_409(
    demo: DemoInstance, client: FlaskClient, admin: dict[str, str], researcher: dict[str, str]
) -> None:
    dataset_id, _ = controlled_files(demo)
    old = client.get(f"/api/v1/datasets/{dataset_id}/agreement").get_json()
    assert client.post(f"/api/v1/datasets/{dataset_id}/agreements", headers=admin,
                       json={"text": NEW_TEXT}).status_code == 201
    before = counts(demo)
    refused = client.post(f"/api/v1/datasets/{dataset_id}/agreement/accept", headers=researcher,
                          json={"version": 1, "sha256": old["sha256"]})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "agreement_outdated"
    assert refused.get_json()["error"]["details"]["current_version"] == 2
    assert counts(demo) == before
    assert last_event(demo, "agreement:refused").details == {"action": "accept", "version": 1}


def test_wrong_hash_is_refused_with_400(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str]
) -> None:
    dataset_id, _ = controlled_files(demo)
    refused = client.post(f"/api/v1/datasets/{dataset_id}/agreement/accept", headers=researcher,
                          json={"version": 1, "sha256": "ab" * 32})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "agreement_hash_mismatch"
    assert counts(demo) == (1, 0)


@pytest.mark.parametrize("username", ["researcher", "dac-chair", "signing-official", "auditor"])
def test_only_an_admin_may_publish(demo: DemoInstance, client: FlaskClient, username: str
                                   ) -> None:
    dataset_id, _ = controlled_files(demo)
    refused = client.post(f"/api/v1/datasets/{dataset_id}/agreements",
                          headers=issue_token(demo, username), json={"text": NEW_TEXT})
    assert refused.status_code == 403
    assert counts(demo) == (1, 0)
    assert last_event(demo, "agreement:refused").details == {"action": "publish"}
    page = signed_in_client(demo, username).get(f"/datasets/{dataset_id}/agreements/new")
    assert page.status_code == 403


def test_signed_out_user_cannot_publish_or_accept(demo: DemoInstance, client: FlaskClient
                                                   ) -> None:
    dataset_id, _ = controlled_files(demo)
    body = client.get(f"/api/v1/datasets/{dataset_id}/agreement").get_json()
    assert body["accepted"] is False  # the text is public; accepting needs a person
    assert client.post(f"/api/v1/datasets/{dataset_id}/agreements",
                       headers={"Authorization": "Bearer x"}, json={"text": NEW_TEXT}
                       ).status_code == 401
    assert client.post(f"/api/v1/datasets/{dataset_id}/agreement/accept",
                       json={"version": 1, "sha256": body["sha256"]}).status_code in (400, 401)
    assert counts(demo) == (1, 0)


@pytest.mark.parametrize("body", [
    {}, {"text": ""}, {"text": "too short"}, {"text": 5}, {"text": None},
    {"text": NEW_TEXT, "version": 3}, [NEW_TEXT], "x" * 30,
])
def test_bad_publish_input_is_400_and_changes_nothing(
    demo: DemoInstance, client: FlaskClient, admin: dict[str, str], body: Any
) -> None:
    dataset_id, _ = controlled_files(demo)
    refused = client.post(f"/api/v1/datasets/{dataset_id}/agreements", headers=admin, json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "invalid_input"
    assert counts(demo) == (1, 0)


@pytest.mark.parametrize("body", [
    {}, {"version": 1}, {"version": "1", "sha256": "ab" * 32}, {"version": 0, "sha256": "ab" * 32},
    {"version": 1, "sha256": "zz" * 32}, {"version": 1, "sha256": "ab"},
    {"version": 1, "sha256": "ab" * 32, "extra": True}, {"version": 2**70, "sha256": "ab" * 32},
])
def test_bad_accept_input_is_400_and_changes_nothing(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], body: Any
) -> None:
    dataset_id, _ = controlled_files(demo)
    refused = client.post(f"/api/v1/datasets/{dataset_id}/agreement/accept", headers=researcher,
                          json=body)
    assert refused.status_code in (400, 409), refused.get_json()
    assert refused.get_json()["error"]["code"] in ("invalid_input", "agreement_outdated")
    assert counts(demo) == (1, 0)


def test_unknown_dataset_is_404(client: FlaskClient, admin: dict[str, str],
                                researcher: dict[str, str]) -> None:
    assert client.get("/api/v1/datasets/99999/agreement").status_code == 404
    assert client.post("/api/v1/datasets/99999/agreements", headers=admin,
                       json={"text": NEW_TEXT}).status_code == 404
    assert client.post("/api/v1/datasets/99999/agreement/accept", headers=researcher,
                       json={"version": 1, "sha256": "ab" * 32}).status_code == 404


def test_dataset_without_an_agreement_has_no_gate(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "extra.tsv"
    source.write_bytes(b"donor\tage\nD1\t40\n")
    factory = demo.app.extensions["custodian.session_factory"]
    now = demo.clock.now()
    with demo.app.app_context(), factory.begin() as session:
        committee = session.scalars(select(Committee)).one()
        first = session.scalars(select(User).where(User.subject == "researcher")).one()
        chair = session.scalars(select(User).where(User.subject == "dac-chair")).one()
        official = session.scalars(select(User).where(User.subject == "signing-official")).one()
        dataset = ensure_dataset(
            session, Actor(user=None), session.scalars(select(Study)).first(), accession="extra.c2",
            name="No agreement", duo_codes=["DUO:0000042"], use_limitation_text="",
            committee_id=committee.id, now=now)
        data_file = register_file(session, Actor(user=None), dataset, source, key="extra/x.tsv",
                                  kind=FileKind.CLINICAL, tier=Tier.CONTROLLED, description="",
                                  storage=demo.app.extensions["custodian.storage"], now=now)
        filed = create_request(session, Actor(user=first), title="Extra", dataset_ids=[dataset.id],
                               research_use_statement=STATEMENT, directory=CatalogueDirectory(),
                               now=now)
        submit_request(session, Actor(user=first), filed.id, now)
        endorse_request(session, Actor(user=official), filed.id, now=now)
        approve_request(session, Actor(user=chair), filed.id, reason="ok", days=5, now=now)
        file_id, dataset_id = data_file.id, dataset.id
    assert download(client, researcher, file_id) == source.read_bytes()
    assert client.get(f"/api/v1/datasets/{dataset_id}/agreement").status_code == 404


def test_researcher_reads_and_accepts_on_the_page(demo: DemoInstance) -> None:
    dataset_id, _ = controlled_files(demo)
    browser = signed_in_client(demo, "researcher")
    page = browser.get(f"/datasets/{dataset_id}").get_data(as_text=True)
    assert "Read and accept the agreement" not in page  # no grant yet: just a link to it
    assert f'href="/datasets/{dataset_id}/agreement"' in page
    shown = browser.get(f"/datasets/{dataset_id}/agreement").get_data(as_text=True)
    assert "Accept version 1" in shown
    body = browser.get(f"/api/v1/datasets/{dataset_id}/agreement").get_json()
    form = {"version": "1", "sha256": body["sha256"], "next": f"/datasets/{dataset_id}"}
    assert browser.post(f"/datasets/{dataset_id}/agreement/accept", data=form
                        ).status_code == 400  # no CSRF token
    assert counts(demo)[1] == 0
    accepted = browser.post(f"/datasets/{dataset_id}/agreement/accept",
                            data={**form, "csrf_token": "known-token"})
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == f"/datasets/{dataset_id}"
    assert counts(demo)[1] == 1
    assert "You accepted version 1" in browser.get(f"/datasets/{dataset_id}").get_data(
        as_text=True)


def test_admin_publishes_on_the_page(demo: DemoInstance) -> None:
    dataset_id, _ = controlled_files(demo)
    browser = signed_in_client(demo, "admin")
    assert f'href="/datasets/{dataset_id}/agreements/new"' in browser.get(
        f"/datasets/{dataset_id}").get_data(as_text=True)
    form = browser.get(f"/datasets/{dataset_id}/agreements/new")
    assert form.status_code == 200 and "publishing makes version" in form.get_data(as_text=True)
    empty = browser.post(f"/datasets/{dataset_id}/agreements/new",
                         data={"text": " ", "csrf_token": "known-token"})
    assert empty.status_code == 400
    assert counts(demo)[0] == 1
    published = browser.post(f"/datasets/{dataset_id}/agreements/new",
                             data={"text": NEW_TEXT, "csrf_token": "known-token"})
    assert published.status_code == 302
    assert counts(demo)[0] == 2
    page = browser.get(f"/datasets/{dataset_id}/agreement").get_data(as_text=True)
    assert NEW_TEXT in page and "version 2" in page
