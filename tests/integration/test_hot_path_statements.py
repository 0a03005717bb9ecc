"""The hot paths take a fixed number of SQL statements, whatever the amount of data: URL
issuance, DRS single and bulk access, the catalogue pages, a request page and audit search
are counted at two data sizes, and the count may not grow (issue 15, point 2)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from access.identity.models import User
from access.models import Committee
from access.requests.models import AccessRequest
from app import create_app
from audit.log.actions import AuditAction
from audit.log.append import AuditActor, record_event
from audit.log.models import AuditEvent
from datasets.catalogue.models import Dataset
from tests import factories
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import controlled_files, grant_access, issue_url
from tests.integration.test_drs import open_file_id
from tests.integration.test_pages_and_health import signed_in_client

DRS = "/ga4gh/drs/v1"
# A request's own statements at most (the commit is not a statement here).
MOST = {
    "url issuance": 3,
    "file serving": 3,
    "drs access": 3,
    "drs bulk access": 3,  # the token, the files with their access, the events' insert
    "catalogue": 19,
    "dataset page": 23,
    "request page": 30,
    "audit search": 2,
    "open file url": 2,
}
# How audit/log/sequencer.py takes the chain lock, on SQLite and on PostgreSQL.
CHAIN_LOCKS = ("UPDATE audit_events SET seq=audit_events.seq WHERE 0 = 1",
               "SELECT pg_advisory_xact_lock(")


@pytest.fixture
def app(demo: DemoInstance) -> Iterator[Flask]:
    """The demo with no checkpoint falling due in a counted request (one would add its
    own statements, whatever the data)."""
    made = create_app(replace(demo.settings, audit_checkpoint_every=1_000_000), clock=demo.clock)
    yield made
    made.extensions["custodian.engine"].dispose()


@dataclass
class Counted:
    """A call's statements: its own, and those of the sequencer's batch the demo's
    in-transaction mode runs before its commit (in production a sequencer thread's)."""

    own: list[str] = field(default_factory=list)
    batch: list[str] = field(default_factory=list)


def statements(app: Flask, call: Callable[[], Any]) -> Counted:
    engine: Engine = app.extensions["custodian.engine"]
    counted, in_batch = Counted(), False

    def executing(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal in_batch
        statement = " ".join(statement.split())
        in_batch = in_batch or statement.startswith(CHAIN_LOCKS)  # where a batch begins
        (counted.batch if in_batch else counted.own).append(statement)

    def ended(_conn: Any) -> None:
        nonlocal in_batch
        in_batch = False

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", executing), ("commit", ended), ("rollback", ended)]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        call()
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
    return counted


def governed_dataset(session: Session, dataset_id: int) -> tuple[Dataset, Committee]:
    """The controlled dataset and the committee that governs it."""
    dataset = session.get(Dataset, dataset_id)
    assert dataset is not None and dataset.committee_id is not None
    committee = session.get(Committee, dataset.committee_id)
    assert committee is not None
    return dataset, committee


def grow(demo: DemoInstance, dataset_id: int, times: int) -> None:
    """More of everything the hot paths look through: files in the researcher's dataset,
    users holding grants on it, the researcher's own requests, other datasets in the
    catalogue, and audit events."""
    now = demo.clock.now()
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        dataset, committee = governed_dataset(session, dataset_id)
        researcher = session.scalars(select(User).where(User.subject == "researcher")).one()
        for _ in range(times):
            other = factories.controlled_dataset(session, now, committee)
            factories.catalogued_file(session, now, other)
            factories.catalogued_file(session, now, dataset)
            factories.grant(session, now, factories.user(session, now), dataset)
            factories.grant(session, now, researcher, dataset)
            for action in (AuditAction.URL_ISSUE, AuditAction.AUDIT_VERIFY):
                record_event(session, AuditActor(user_id=researcher.id, subject="researcher"),
                             action, now=now, target_type="file", target_id=1)


def hot_paths(
    demo: DemoInstance, app: Flask, dataset_id: int, files: list[int]
) -> dict[str, tuple[int, int]]:
    """Each hot path's own statements, and its sequencer batch's."""
    client = app.test_client()
    researcher = issue_token(demo, "researcher")
    auditor = issue_token(demo, "auditor")
    browser: FlaskClient = signed_in_client(demo, "researcher", app)
    bulk = {"bulk_object_access_ids": [
        {"bulk_object_id": str(file_id), "bulk_access_ids": ["signed-url"]}
        for file_id in files[:3]]}
    with demo.app.extensions["custodian.session_factory"]() as session:
        request_id = session.scalars(select(AccessRequest.id).order_by(AccessRequest.id)).first()

    def served_path() -> str:
        """A fresh URL's path and query: what a download client fetches."""
        parts = urlsplit(issue_url(client, researcher, files[0]))
        return f"{parts.path}?{parts.query}"

    served = served_path()

    def expect(status: int, response: Any) -> None:
        assert response.status_code == status, response.get_data(as_text=True)[:500]

    calls: dict[str, Callable[[], None]] = {
        "url issuance": lambda: expect(
            200, client.get(f"/api/v1/files/{files[0]}/url", headers=researcher)),
        "file serving": lambda: expect(200, client.get(served)),
        "drs access": lambda: expect(
            200, client.get(f"{DRS}/objects/{files[0]}/access/signed-url", headers=researcher)),
        "drs bulk access": lambda: expect(
            200, client.post(f"{DRS}/objects/access", headers=researcher, json=bulk)),
        "catalogue": lambda: expect(200, browser.get("/")),
        "dataset page": lambda: expect(200, browser.get(f"/datasets/{dataset_id}")),
        "request page": lambda: expect(200, browser.get(f"/requests/{request_id}")),
        "audit search": lambda: expect(
            200, client.get("/api/v1/audit/events?limit=50", headers=auditor)),
        "open file url": lambda: expect(
            200, client.get(f"/api/v1/files/{open_file_id(demo)}/url")),
    }
    for call in calls.values():  # warm: first-time work (alert windows, caches) is not counted
        call()
    counted = {}
    for name, call in calls.items():
        demo.clock.advance(timedelta(seconds=1))  # each event at a time of its own
        made = statements(app, call)
        counted[name] = (len(made.own), len(made.batch))
    return counted


def test_hot_paths_and_their_batches_take_as_many_statements_with_twenty_times_the_data(
    demo: DemoInstance, app: Flask
) -> None:
    grant_access(demo)
    dataset_id, files = controlled_files(demo)
    grow(demo, dataset_id, 3)
    small = hot_paths(demo, app, dataset_id, files)
    grow(demo, dataset_id, 60)
    large = hot_paths(demo, app, dataset_id, files)
    assert large == small
    assert {name: own for name, (own, _) in small.items() if own > MOST[name]} == {}


def test_drs_bulk_access_takes_as_many_statements_for_forty_files_as_for_four(
    demo: DemoInstance, app: Flask
) -> None:
    """The bulk path reads every file with its grant and agreement in one query and queues
    the events in one insert; a refusal among them is still decided, and audited, alone."""
    grant_access(demo)
    dataset_id, _ = controlled_files(demo)
    now = demo.clock.now()
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        dataset, committee = governed_dataset(session, dataset_id)
        files = [factories.catalogued_file(session, now, dataset).id for _ in range(40)]
        elsewhere = factories.catalogued_file(
            session, now, factories.controlled_dataset(session, now, committee)).id
    client = app.test_client()
    researcher = issue_token(demo, "researcher")

    def bulk(ids: list[int]) -> Any:
        body = {"bulk_object_access_ids": [
            {"bulk_object_id": str(i), "bulk_access_ids": ["signed-url"]} for i in ids]}
        answered = client.post(f"{DRS}/objects/access", headers=researcher, json=body)
        assert answered.status_code == 200, answered.get_data(as_text=True)[:500]
        return answered.get_json()

    def events(action: str) -> int:
        with demo.app.extensions["custodian.session_factory"]() as session:
            return session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == action)) or 0

    bulk([*files[:4], elsewhere])  # warm
    answers: list[Any] = []
    four = statements(app, lambda: answers.append(bulk([*files[:4], elsewhere])))
    issued_before, refused_before = events("url:issue"), events("url:refuse")
    forty = statements(app, lambda: answers.append(bulk([*files, elsewhere])))
    # The refused file's own reads: is there a visa, which grant lapsed.
    assert len(forty.own) == len(four.own) <= MOST["drs bulk access"] + 2
    assert answers[1]["summary"] == {"requested": 41, "resolved": 40, "unresolved": 1}
    assert answers[1]["unresolved_drs_objects"] == [
        {"error_code": 403, "object_ids": [str(elsewhere)]}]
    assert events("url:issue") == issued_before + 40
    assert events("url:refuse") == refused_before + 1


def test_a_request_page_reads_the_terms_of_its_datasets_but_not_their_files(
    demo: DemoInstance, app: Flask
) -> None:
    """A dataset's files grow with the catalogue (1,000 each at full size); the data-use
    match a reviewer sees needs only its terms."""
    grant_access(demo)
    with demo.app.extensions["custodian.session_factory"]() as session:
        request_id = session.scalars(select(AccessRequest.id).order_by(AccessRequest.id)).first()
    browser: FlaskClient = signed_in_client(demo, "dac-chair", app)
    page = statements(app, lambda: browser.get(f"/requests/{request_id}"))
    assert any("duo_codes" in s for s in page.own)  # the match was made
    assert [s for s in page.own if "FROM data_files" in s] == []
