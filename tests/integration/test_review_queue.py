"""The review queue every signed-in page's header asks: a member sees the requests waiting for
their committee; someone on no committee sees none, and on PostgreSQL their query never
reads the requests in review at all (the membership is a one-time filter)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, select

from access.identity.actor import Actor
from access.identity.models import User
from access.requests.review import review_queue
from tests.conftest import ONLY_POSTGRESQL, DemoInstance
from tests.integration.audit_support import controlled_files, file_and_endorse


def endorsed_request(demo: DemoInstance) -> int:
    """A request of the researcher's on the demo's controlled dataset, waiting for its
    committee."""
    dataset_id, _ = controlled_files(demo)
    with demo.app.app_context(), demo.app.extensions["custodian.session_factory"].begin() as s:
        return file_and_endorse(s, "researcher", dataset_id, demo.clock.now())


def queue_of(demo: DemoInstance, subject: str) -> list[int]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        user = session.scalars(select(User).where(User.subject == subject)).one()
        return [r.id for r in review_queue(session, Actor(user=user))]


def test_a_member_sees_the_waiting_request_and_someone_on_no_committee_sees_none(
    demo: DemoInstance,
) -> None:
    waiting = endorsed_request(demo)
    assert waiting in queue_of(demo, "dac-member")
    assert waiting in queue_of(demo, "dac-chair")
    assert queue_of(demo, "signing-official") == []
    assert queue_of(demo, "researcher") == []  # the applicant's own request is not theirs to judge


def plan_of_queue(demo: DemoInstance, subject: str) -> str:
    """EXPLAIN ANALYZE of the very statement ``review_queue`` sends for ``subject``."""
    engine: Engine = demo.app.extensions["custodian.engine"]
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        queue_of(demo, subject)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = next((s, p) for s, p in sent if "FROM access_requests" in s)
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement, parameters)
        return "\n".join(row[0] for row in cursor.fetchall())


def requests_scan(plan: str) -> str:
    return next(line for line in plan.splitlines() if " on access_requests" in line)


@ONLY_POSTGRESQL
def test_postgresql_never_reads_the_requests_in_review_for_someone_on_no_committee(
    demo: DemoInstance,
) -> None:
    endorsed_request(demo)
    outsider = plan_of_queue(demo, "signing-official")
    assert "One-Time Filter" in outsider, outsider
    assert "never executed" in requests_scan(outsider), outsider
    member = plan_of_queue(demo, "dac-member")
    assert "never executed" not in requests_scan(member), member
