"""Helpers shared by the auditors' tests: reading the log, granting access, downloading."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import User
from access.requests.applicant import submit_request
from access.requests.endorsement import endorse_request
from access.requests.filing import create_request
from access.requests.review import approve_request
from audit.log.models import AuditEvent
from datasets.catalogue.models import DataFile, Dataset
from datasets.catalogue.queries import CatalogueDirectory
from tests.agreements import accept_as
from tests.conftest import DemoInstance

STATEMENT = "We study tissue-specific regulation of gene expression in ageing adults."


def all_events(demo: DemoInstance) -> list[AuditEvent]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def event_count(demo: DemoInstance) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def user_id(demo: DemoInstance, username: str) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found: int = session.scalars(select(User.id).where(User.subject == username)).one()
        return found


def controlled_files(demo: DemoInstance) -> tuple[int, list[int]]:
    """The demo's controlled dataset and its file ids."""
    with demo.app.extensions["custodian.session_factory"]() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.committee_id.is_not(None))).one()
        files = list(session.scalars(select(DataFile.id).where(DataFile.dataset_id == dataset.id)
                                     .order_by(DataFile.id)))
        return dataset.id, files


def file_and_endorse(session: Session, username: str, dataset_id: int, now: datetime) -> int:
    """File and submit a request of ``username``'s on the dataset and have the signing
    official endorse it, in the caller's transaction: it waits for the committee."""
    applicant = session.scalars(select(User).where(User.subject == username)).one()
    official = session.scalars(select(User).where(User.subject == "signing-official")).one()
    filed = create_request(session, Actor(user=applicant), title="Ageing eQTLs",
                           research_use_statement=STATEMENT, dataset_ids=[dataset_id],
                           directory=CatalogueDirectory(), now=now)
    submit_request(session, Actor(user=applicant), filed.id, now)
    endorse_request(session, Actor(user=official), filed.id, now=now)
    return filed.id


def grant_access(demo: DemoInstance, username: str = "researcher", days: int = 30) -> int:
    """File, submit, endorse (signing official) and approve (chair) a request through the use
    cases; returns the dataset id."""
    dataset_id, _ = controlled_files(demo)
    factory = demo.app.extensions["custodian.session_factory"]
    now = demo.clock.now()
    with demo.app.app_context(), factory.begin() as session:
        chair = session.scalars(select(User).where(User.subject == "dac-chair")).one()
        filed = file_and_endorse(session, username, dataset_id, now)
        approve_request(session, Actor(user=chair), filed, reason="GRU fits.", days=days,
                        now=now)
    accept_as(demo, username, dataset_id)
    return dataset_id


def issue_url(client: FlaskClient, headers: dict[str, str], file_id: int) -> str:
    issued = client.get(f"/api/v1/files/{file_id}/url", headers=headers)
    assert issued.status_code == 200, issued.get_json()
    url: str = issued.get_json()["url"]
    return url


def fetch(client: FlaskClient, url: str) -> int:
    """GET a local-backend signed URL through the app; returns the status."""
    parts = urlsplit(url)
    status: int = client.get(f"{parts.path}?{parts.query}").status_code
    return status


def seqs(body: dict[str, Any], key: str = "events") -> list[int]:
    return [event["seq"] for event in body[key]]
