"""The sequenced log: an action queues its event taking no lock another transaction holds;
the database guards the queue as it guards the chain; the sequencer's backlog shows in
``flask audit verify``, /readyz and the metrics; the thread mode leads and integrates."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, timedelta, timezone

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, Text, cast, delete, event, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from audit.log.actions import AuditAction
from audit.log.append import QUEUED, SYSTEM, record_event
from audit.log.models import AuditEvent, AuditQueueEntry
from audit.log.sequencer import CHAIN_LOCK_KEY, insert_events
from core.db import canonical_json, make_session_factory
from core.metrics import exposition
from tests.conftest import ONLY_POSTGRESQL, DemoInstance, issue_token
from tests.integration.audit_support import event_count
from tests.integration.test_api_bad_input import assert_error_shape
from tests.sequencing import seq_of


def bare_factory(demo: DemoInstance) -> sessionmaker[Session]:
    """Sessions on the demo's database without the app's in-transaction sequencer: what
    they queue stays queued, as it would while no sequencer runs."""
    return make_session_factory(demo.app.extensions["custodian.engine"])


def queue_one(demo: DemoInstance, factory: sessionmaker[Session] | None = None) -> int:
    with (factory or bare_factory(demo)).begin() as session:
        return record_event(
            session,
            SYSTEM,
            AuditAction.AUDIT_VERIFY,
            now=demo.clock.now(),
            details={"queued": True},
        ).id


def drain(demo: DemoInstance) -> int:
    return demo.app.extensions["custodian.audit_sequencer"].drain()  # type: ignore[no-any-return]


def queued(demo: DemoInstance) -> int:
    with bare_factory(demo)() as session:
        return session.scalar(select(func.count()).select_from(AuditQueueEntry)) or 0


def cli(demo: DemoInstance, *args: str) -> tuple[int, str]:
    result = demo.app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


@ONLY_POSTGRESQL
def test_an_action_commits_while_another_transaction_holds_the_chain_lock(
    demo: DemoInstance,
) -> None:
    engine: Engine = demo.app.extensions["custodian.engine"]
    with engine.connect() as holder:
        holder.execute(select(func.pg_advisory_lock(CHAIN_LOCK_KEY)))
        with bare_factory(demo)() as session:
            session.execute(text("SET statement_timeout = '2s'"))  # a wait would fail it
            record_event(session, SYSTEM, AuditAction.AUDIT_VERIFY, now=demo.clock.now())
            session.commit()
        holder.execute(select(func.pg_advisory_unlock(CHAIN_LOCK_KEY)))
        holder.commit()
    assert queued(demo) == 1


def test_the_database_refuses_to_change_a_queued_event_or_drop_it_unchained(
    demo: DemoInstance,
) -> None:
    entry_id = queue_one(demo)
    engine: Engine = demo.app.extensions["custodian.engine"]
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(update(AuditQueueEntry).values(ip="203.0.113.9"))
    with pytest.raises(DBAPIError, match="not in the chain"), engine.begin() as connection:
        connection.execute(delete(AuditQueueEntry))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_queue"))
    assert queued(demo) == 1
    assert drain(demo) == 1
    assert queued(demo) == 0
    with bare_factory(demo)() as session:
        chained = session.get(AuditEvent, seq_of(bare_factory(demo), entry_id))
        assert chained is not None and chained.details == {"queued": True}


def test_an_event_leaves_the_queue_only_into_the_chain_with_its_content(
    demo: DemoInstance,
) -> None:
    """Whoever may insert into the chain still cannot swap a queued event for another."""
    entry_id = queue_one(demo)
    engine: Engine = demo.app.extensions["custodian.engine"]
    with engine.connect() as connection:
        tip = connection.scalar(select(func.max(AuditEvent.seq))) or 0
    forged = {
        "seq": tip + 1,
        "occurred_at": demo.clock.now(),
        "action": "audit:verify",
        "outcome": "success",
        "actor_roles": "",
        "details": {"queued": False},
        "prev_hash": "0" * 64,
        "hash": "f" * 64,
        "leaf_hash": "f" * 64,
        "entry_id": entry_id,
    }
    with pytest.raises(DBAPIError, match="not in the chain"), engine.begin() as connection:
        connection.execute(insert(AuditEvent), [forged])
        connection.execute(delete(AuditQueueEntry).where(AuditQueueEntry.id == entry_id))
    assert queued(demo) == 1


def test_verify_reports_unchained_events_and_fails_once_one_waits_too_long(
    demo: DemoInstance,
) -> None:
    queue_one(demo)
    code, output = cli(demo, "audit", "verify")
    assert code == 0, output
    assert "1 event not yet chained, the oldest 0.0 s old." in output
    assert queued(demo) == 0  # verify's own event drained the queue as it committed

    queue_one(demo)
    demo.clock.advance(timedelta(seconds=demo.settings.audit_max_lag_seconds + 1))
    code, output = cli(demo, "audit", "verify")
    assert code == 1
    assert (
        "FAILED: 1 event not yet chained, the oldest 61.0 s old, more than the 60 s allowed"
    ) in output
    with bare_factory(demo)() as session:
        recorded = session.scalars(
            select(AuditEvent.details)
            .where(AuditEvent.action == "audit:verify")
            .order_by(AuditEvent.seq.desc())
        ).first()
    assert recorded is not None
    assert (recorded["unchained"], recorded["oldest_unchained_seconds"]) == (1, 61.0)


def test_an_action_chains_the_queue_as_it_commits_and_a_savepoint_is_no_commit(
    demo: DemoInstance,
) -> None:
    """The demo's ``in_transaction`` mode. The outbox queues each email in a SAVEPOINT,
    which SQLAlchemy reports as a commit: chaining there, from a second connection, once
    left a request waiting for its own SQLite write lock."""
    factory: sessionmaker[Session] = demo.app.extensions["custodian.session_factory"]
    left_queued = queue_one(demo)  # by a session without the mode: the next commit takes it
    with factory() as session:
        first = record_event(session, SYSTEM, AuditAction.AUDIT_VERIFY, now=demo.clock.now())
        with session.begin_nested():
            nested = record_event(
                session, SYSTEM, AuditAction.AUDIT_VERIFY, now=demo.clock.now(), details={"n": 1}
            )
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entry_id.in_([first.id, nested.id]))) == 0
        demo.clock.advance(timedelta(seconds=3))
        session.commit()
    assert queued(demo) == 0
    with bare_factory(demo)() as session:
        chained = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entry_id.in_([left_queued, first.id, nested.id]))
            .order_by(AuditEvent.seq)
        ).all()
    assert [event.entry_id for event in chained] == [left_queued, first.id, nested.id]
    assert [event.seq for event in chained] == list(range(chained[0].seq, chained[0].seq + 3))
    # Each event's lag is there to measure: chained when its action committed, 3 s on.
    assert {event.chained_at for event in chained} == {demo.clock.now()}
    assert (chained[1].chained_at or demo.clock.now()) - chained[1].occurred_at == timedelta(
        seconds=3
    )


def test_a_rolled_back_action_chains_nothing_and_leaves_the_next_commit_alone(
    demo: DemoInstance,
) -> None:
    factory: sessionmaker[Session] = demo.app.extensions["custodian.session_factory"]
    before = event_count(demo)
    with factory() as session:
        record_event(session, SYSTEM, AuditAction.AUDIT_VERIFY, now=demo.clock.now())
        session.rollback()
        assert QUEUED not in session.info
    assert (event_count(demo), queued(demo)) == (before, 0)


def metric(name: str) -> float:
    for family in text_string_to_metric_families(exposition()[0].decode()):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    raise AssertionError(f"no metric {name}")


def test_readyz_and_the_metrics_show_the_backlog(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    queue_one(demo)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["figures"]["audit_sequencer"] == {"unchained": 1, "oldest_seconds": 0.0}
    demo.clock.advance(timedelta(seconds=90))
    behind = client.get("/readyz")
    assert behind.status_code == 503
    assert behind.get_json()["checks"]["audit_sequencer"] == "failing"
    assert behind.get_json()["figures"]["audit_sequencer"] == {
        "unchained": 1,
        "oldest_seconds": 90.0,
    }
    assert metric("custodian_audit_unchained_events") == 1
    assert metric("custodian_audit_oldest_unchained_seconds") == 90.0
    lags = metric("custodian_audit_sequencer_lag_seconds_count")
    assert drain(demo) == 1
    assert metric("custodian_audit_sequencer_lag_seconds_count") == lags + 1
    assert client.get("/readyz").get_json()["figures"]["audit_sequencer"]["unchained"] == 0


@pytest.fixture
def threaded(demo: DemoInstance) -> Iterator[Flask]:
    """The demo's database served as outside the demo: a sequencer thread per process."""
    app = create_app(
        replace(demo.settings, audit_sequencer="thread", audit_sequencer_interval_ms=10),
        clock=demo.clock,
    )
    yield app
    app.extensions["custodian.audit_sequencer"].stop()
    app.extensions["custodian.engine"].dispose()


def test_the_sequencer_thread_chains_what_requests_record(
    demo: DemoInstance,
    threaded: Flask,
) -> None:
    before = event_count(demo)
    researcher = issue_token(demo, "researcher")
    response = threaded.test_client().post(
        "/api/v1/tokens", json={"name": "t", "days": 1}, headers=researcher
    )
    assert response.status_code == 201
    deadline = time.monotonic() + 10
    while event_count(demo) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    with bare_factory(demo)() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.seq > before).order_by(AuditEvent.seq)
        ).all()
    assert list(actions) == ["token:create", "token:create"]  # the fixture's, then the API's
    if threaded.extensions["custodian.engine"].dialect.name == "postgresql":
        with threaded.extensions["custodian.engine"].connect() as connection:
            leaders = connection.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            )
        assert leaders == 1  # the thread holds the lead while it runs


@ONLY_POSTGRESQL
def test_an_export_the_sequencer_cannot_reach_answers_503_and_stays_recorded(
    demo: DemoInstance,
    threaded: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("audit.integrity.log_export.CHAIN_WAIT_SECONDS", 0.5)
    auditor = issue_token(demo, "auditor")
    engine: Engine = demo.app.extensions["custodian.engine"]
    with engine.connect() as holder:  # another leader, stuck
        holder.execute(select(func.pg_advisory_lock(CHAIN_LOCK_KEY)))
        response = threaded.test_client().get("/api/v1/audit/export", headers=auditor)
        assert_error_shape(response, 503)
        assert "behind" in response.get_json()["error"]["message"]
        with bare_factory(demo)() as session:
            waiting = session.scalars(select(AuditQueueEntry.action)).all()
        assert "audit:export" in waiting  # recorded, and chained once a sequencer leads
        holder.execute(select(func.pg_advisory_unlock(CHAIN_LOCK_KEY)))
        holder.commit()


def test_a_batch_stores_each_event_as_queued_whatever_its_characters_and_zone(
    demo: DemoInstance,
) -> None:
    """PostgreSQL chains a batch with one COPY (audit/log/sequencer.py): text that COPY's
    format must escape is stored as the ORM stores it, details as their canonical JSON text
    (what verify and export bet on), times in UTC, so the chain verifies and reads back as
    queued."""
    awkward = 'tab\there, newline\nthere, back\\slash, "quotes", \\N, naïve 漢字 \u2028'
    elsewhere = demo.clock.now().astimezone(timezone(timedelta(hours=-5, minutes=-30)))
    before = event_count(demo)
    with bare_factory(demo).begin() as session:
        for n in range(3):
            record_event(session, replace(SYSTEM, user_agent=awkward, request_id=f"r{n}"),
                         AuditAction.AUDIT_VERIFY, now=elsewhere + timedelta(microseconds=n),
                         target_type="file", target_id=n,
                         details={"note": awkward, "n": n, "nested": {"b": [1, None], "a": ""}})
    engine: Engine = demo.app.extensions["custodian.engine"]
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731  (cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert drain(demo) == 3
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    inserts = [s for s in statements if s.startswith("INSERT INTO audit_events")]
    assert (not inserts) == (engine.dialect.name == "postgresql")  # COPY there, inserts here
    with bare_factory(demo)() as session:
        stored = session.execute(
            select(AuditEvent).where(AuditEvent.seq > before).order_by(AuditEvent.seq)
        ).scalars().all()
        texts = session.scalars(select(cast(AuditEvent.details, Text))
                                .where(AuditEvent.seq > before).order_by(AuditEvent.seq)).all()
    assert list(texts) == [canonical_json(e.details) for e in stored]
    assert [e.user_agent for e in stored] == [awkward] * 3
    assert [e.details for e in stored] == [
        {"note": awkward, "n": n, "nested": {"b": [1, None], "a": ""}} for n in range(3)]
    assert [e.occurred_at for e in stored] == [
        (elsewhere + timedelta(microseconds=n)).astimezone(UTC) for n in range(3)]
    assert cli(demo, "audit", "verify")[0] == 0


@ONLY_POSTGRESQL
def test_a_failing_copy_is_reported_as_any_statement_without_the_rows_values(
    demo: DemoInstance,
) -> None:
    """The COPY's error comes back as SQLAlchemy's, as the app's handlers expect, and
    without the server's context, which quotes the value it choked on."""
    engine: Engine = demo.app.extensions["custodian.engine"]
    with engine.connect() as connection:
        tip = connection.scalar(select(func.max(AuditEvent.seq))) or 0
    secret = "subject-that-must-not-be-logged-" * 10  # longer than the column's 255
    forged = {
        "seq": tip + 1, "occurred_at": demo.clock.now(), "action": "audit:verify",
        "outcome": "success", "actor_user_id": None, "actor_issuer": None,
        "actor_subject": secret, "actor_token_id": None, "actor_roles": "", "ip": None,
        "user_agent": None, "request_id": None, "target_type": None, "target_id": None,
        "details": {"forged": True}, "prev_hash": "0" * 64, "hash": "f" * 64,
        "leaf_hash": "f" * 64, "entry_id": 10**9,
    }
    with bare_factory(demo)() as session:
        with pytest.raises(DBAPIError) as refused:
            insert_events(session, [forged])
        session.rollback()
    assert "value too long" in str(refused.value)
    assert "subject-that-must-not-be-logged" not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
