"""The auditors' verification page and the names on their pages: the newest checkpoint, a
check run from a form (bounded, recorded, going on from the last one), reports that name
people, datasets and files, and "no such dataset" where there is none."""

from __future__ import annotations

import html as html_text
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update

from app import create_app
from audit.extensions import checkpoint_signer
from audit.integrity.incremental_check import StepReport
from audit.integrity.models import AuditCheckpoint
from audit.log.actions import AuditAction, Outcome
from audit.log.append import SYSTEM, record_event
from audit.log.models import AuditEvent
from audit.readers import AuditReader
from audit.review.verification import run_check
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import controlled_files, grant_access, issue_url
from tests.integration.tampering import tamper_as_dba
from tests.integration.test_pages_and_health import signed_in_client

CSRF = {"csrf_token": "known-token"}


@pytest.fixture
def auditor(demo: DemoInstance) -> FlaskClient:
    return signed_in_client(demo, "auditor")


def sign_checkpoint(app: Flask) -> int:
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    return int(result.output.split("\n")[1])


def verify_events(app: Flask) -> list[AuditEvent]:
    with app.extensions["custodian.session_factory"]() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == AuditAction.AUDIT_VERIFY.value).order_by(AuditEvent.seq)))


def page_text(response: object) -> str:
    html: str = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_without_a_checkpoint_the_page_says_so_and_events_offer_no_broken_proof_link(
    demo: DemoInstance, auditor: FlaskClient,
) -> None:
    page = auditor.get("/audit/verification")
    assert page.status_code == 200
    assert "No checkpoint has been signed yet" in page_text(page)
    assert "No check has been run yet" in page_text(page)
    event = auditor.get("/audit/events/1")
    assert "/proof" not in event.get_data(as_text=True)
    assert "no checkpoint holds this event" in page_text(event)


def test_the_page_shows_the_newest_checkpoint_and_its_proof_links_work(
    demo: DemoInstance, auditor: FlaskClient,
) -> None:
    size = sign_checkpoint(demo.app)
    text = page_text(auditor.get("/audit/verification"))
    with demo.app.app_context():
        key_id = checkpoint_signer().key_id.hex()
    assert f"Covers events 1 to {size}" in text and key_id in text
    assert re.search(r"Root hash [0-9a-f]{64}", text)
    event = auditor.get("/audit/events/1").get_data(as_text=True)
    assert 'href="/api/v1/audit/events/1/proof"' in event
    assert auditor.get("/api/v1/audit/events/1/proof").status_code == 200


def test_the_check_button_verifies_since_the_last_check_and_is_recorded(
    demo: DemoInstance, auditor: FlaskClient,
) -> None:
    first = sign_checkpoint(demo.app)
    done = auditor.post("/audit/verification", data=CSRF)
    assert done.status_code == 303 and done.headers["Location"] == "/audit/verification"
    text = page_text(auditor.get("/audit/verification"))
    assert f"Intact: events 1 to {first}" in text
    assert "Result intact" in text and "By Avery Auditor" in text
    second = sign_checkpoint(demo.app)
    auditor.post("/audit/verification", data=CSRF)
    assert f"Intact: events {first + 1} to {second}" in page_text(
        auditor.get("/audit/verification"))
    runs = verify_events(demo.app)
    assert [(r.outcome, r.actor_subject) for r in runs] == [("success", "auditor")] * 2
    assert [(r.details["from_size"], r.details["verified_through"]) for r in runs] == [
        (0, first), (first, second)]


def test_the_check_without_a_csrf_token_is_refused_and_runs_nothing(
    demo: DemoInstance, auditor: FlaskClient,
) -> None:
    sign_checkpoint(demo.app)
    assert auditor.post("/audit/verification", data={}).status_code == 400
    assert verify_events(demo.app) == []


def test_an_event_altered_after_the_last_check_fails_the_next_one_and_names_it(
    demo: DemoInstance, auditor: FlaskClient,
) -> None:
    sign_checkpoint(demo.app)
    auditor.post("/audit/verification", data=CSRF)
    altered = sign_checkpoint(demo.app) - 1
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == altered).values(ip="10.6.6.6"))
    auditor.post("/audit/verification", data=CSRF)
    text = page_text(auditor.get("/audit/verification"))
    assert f"FAILED: event {altered} was altered" in text
    last = verify_events(demo.app)[-1]
    assert last.outcome == "error" and last.details["first_bad_seq"] == altered
    # The next run starts again from the last check that passed, and fails again.
    auditor.post("/audit/verification", data=CSRF)
    assert verify_events(demo.app)[-1].details["first_bad_seq"] == altered


def test_a_removed_checkpoint_that_a_check_verified_fails_the_next_check(
    demo: DemoInstance, auditor: FlaskClient,
) -> None:
    verified = sign_checkpoint(demo.app)
    auditor.post("/audit/verification", data=CSRF)
    sign_checkpoint(demo.app)
    tamper_as_dba(demo, delete(AuditCheckpoint).where(AuditCheckpoint.tree_size == verified))
    auditor.post("/audit/verification", data=CSRF)
    assert f"checkpoint {verified}, which an earlier check verified, is gone" in page_text(
        auditor.get("/audit/verification"))


@pytest.fixture
def every_five(demo: DemoInstance) -> Iterator[Flask]:
    app = create_app(replace(demo.settings, audit_checkpoint_every=5), clock=demo.clock)
    yield app
    app.extensions["custodian.engine"].dispose()


def test_a_check_covers_at_most_its_bound_and_the_next_goes_on_from_there(
    demo: DemoInstance, every_five: Flask,
) -> None:
    factory = every_five.extensions["custodian.session_factory"]
    reader = AuditReader(0, frozenset({"auditor"}), SYSTEM)
    with every_five.app_context():
        signer = checkpoint_signer()

    def add_events(count: int) -> None:
        with factory.begin() as session:
            for _ in range(count):
                record_event(session, SYSTEM, AuditAction.AUDIT_REFUSED, now=demo.clock.now(),
                             outcome=Outcome.DENIED)

    def check(limit: int) -> tuple[StepReport, Outcome]:
        with factory.begin() as session:
            return run_check(session, reader, signer, demo.clock.now(), limit=limit)

    add_events(5)
    whole, _ = check(10**6)  # the demo's own events, up to the first checkpoint
    assert whole.ok and whole.to_size % 5 == 0
    add_events(30)
    steps = [check(12) for _ in range(3)]
    sizes = [(r.from_size, r.to_size, r.checkpoints_checked) for r, _ in steps]
    start = whole.to_size
    # Checkpoints every 5 events: 12 events reach two of them; the runs' own events count too.
    assert sizes == [(start, start + 10, 2), (start + 10, start + 20, 2),
                     (start + 20, start + 30, 2)]
    assert all(r.ok and outcome == Outcome.SUCCESS for r, outcome in steps)


def test_a_check_refuses_when_the_next_checkpoint_is_beyond_its_bound(
    demo: DemoInstance,
) -> None:
    size = sign_checkpoint(demo.app)
    reader = AuditReader(0, frozenset({"auditor"}), SYSTEM)
    with demo.app.app_context():
        signer = checkpoint_signer()
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        report, outcome = run_check(session, reader, signer, demo.clock.now(), limit=size - 1)
    assert outcome == Outcome.DENIED and report.to_size == 0
    assert report.problem is not None and "flask audit verify" in report.problem
    assert verify_events(demo.app)[-1].outcome == "denied"


def test_the_demo_setup_signs_a_checkpoint(demo: DemoInstance, auditor: FlaskClient) -> None:
    result = demo.app.test_cli_runner().invoke(args=["demo", "setup"])
    assert result.exit_code == 0, result.output
    assert "in a signed checkpoint" in result.output
    assert "Covers events 1 to" in page_text(auditor.get("/audit/verification"))
    assert auditor.get("/api/v1/audit/events/1/proof").status_code == 200


# Names on the auditors' pages ------------------------------------------------------------

def test_reports_name_people_datasets_and_files(
    demo: DemoInstance, auditor: FlaskClient,
) -> None:
    dataset_id, files = controlled_files(demo)
    grant_access(demo)
    issue_url(demo.app.test_client(), issue_token(demo, "researcher"), files[0])
    by_dataset = page_text(auditor.get(f"/audit/reports/dataset/{dataset_id}"))
    assert "General Research Use (GRU) consent group: who received which files" in by_dataset
    assert "Riley Researcher <researcher@demo.example>" in by_dataset
    assert "file 1" not in by_dataset and "researcher #" not in by_dataset
    search = auditor.get(f"/audit?dataset={dataset_id}&action=url:issue").get_data(as_text=True)
    assert f'<a href="/audit/reports/dataset/{dataset_id}">' in search
    assert "Riley Researcher" in search


def test_event_targets_are_named_links(demo: DemoInstance, auditor: FlaskClient) -> None:
    researcher = signed_in_client(demo, "researcher")
    filed = researcher.post("/api/v1/requests", headers={"X-CSRF-Token": "known-token"}, json={
        "title": "Liver eQTL replication", "dataset_ids": [controlled_files(demo)[0]],
        "research_use_statement": "A research-use statement that is long enough to pass."})
    assert filed.status_code == 201, filed.get_json()
    request_id = filed.get_json()["id"]
    html = auditor.get("/audit?action=request:").get_data(as_text=True)
    assert f'<a href="/requests/{request_id}">Liver eQTL replication</a>' in html


def test_a_report_on_a_dataset_that_does_not_exist_says_so(
    demo: DemoInstance, auditor: FlaskClient,
) -> None:
    missing = auditor.get("/audit/reports/dataset/999999")
    assert missing.status_code == 404
    assert "There is no dataset 999999 in the catalogue" in page_text(missing)
    assert "Nobody received a file" not in page_text(missing)
    assert auditor.get("/audit/reports/user/999999").status_code == 404


def test_the_report_form_picks_a_dataset_and_finds_a_person_by_name_or_email(
    demo: DemoInstance, auditor: FlaskClient,
) -> None:
    dataset_id, _ = controlled_files(demo)
    form = auditor.get("/audit/reports").get_data(as_text=True)
    assert f'<option value="{dataset_id}">' in form and "General Research Use" in form
    picked = auditor.get(f"/audit/reports?kind=dataset&dataset={dataset_id}")
    assert picked.status_code == 302
    assert picked.headers["Location"] == f"/audit/reports/dataset/{dataset_id}"
    for typed in ("Avery", "auditor@demo.example"):
        found = auditor.get(f"/audit/reports?kind=user&user={typed}")
        assert found.status_code == 302, typed
        assert re.fullmatch(r"/audit/reports/user/\d+", found.headers["Location"])
    dated = auditor.get("/audit/reports?kind=user&user=Avery&since=2026-01-01")
    assert dated.headers["Location"].endswith("?since=2026-01-01")
    several = page_text(auditor.get("/audit/reports?kind=user&user=Researcher"))
    assert "Who did you mean?" in several
    assert "Riley Researcher" in several and "Robin Researcher" in several
    nobody = auditor.get("/audit/reports?kind=user&user=Zelda")
    assert nobody.status_code == 200 and "Nobody matches" in page_text(nobody)
    unnamed = auditor.get("/audit/reports?kind=user")
    assert unnamed.status_code == 400
    assert "Type a name, an email address or a user id" in page_text(unnamed)


def test_the_search_finds_a_person_by_name_or_email(
    demo: DemoInstance, auditor: FlaskClient,
) -> None:
    signed_in_client(demo, "researcher").get("/work")  # an event by Riley, if none yet
    one = auditor.get("/audit?person=riley&action=auth:")
    assert one.status_code == 200
    assert "Events by Riley Researcher <researcher@demo.example>" in page_text(one)
    by_email = auditor.get("/audit?person=researcher@demo.example")
    assert "Events by Riley Researcher" in page_text(by_email)
    several = auditor.get("/audit?person=researcher&action=auth:")
    html = several.get_data(as_text=True)
    assert "Who did you mean?" in page_text(several) and "audit-events" not in html
    assert re.search(r'href="/audit\?action=auth%3A&amp;user=\d+"', html)
    nobody = auditor.get("/audit?person=Zelda")
    assert nobody.status_code == 200 and "Nobody matches" in page_text(nobody)
