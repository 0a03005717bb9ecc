"""A log written by the revision before the sequenced log keeps verifying after the
upgrade, grows under the sequencer, and exports for the offline verifier.

tests/data/audit_log_227caff.json holds the four audit tables as commit 227caff (main
before the queue, revision 0011) wrote them on SQLite: twelve URL issues by one user in
twelve seconds (its alert, threshold 3), a refused sign-in and an on-demand checkpoint,
checkpoints every 5 events, signed with the seed in the file. It was made by running that
commit's own code (record_event and checkpoint_now of audit/log/append.py and
audit/integrity/checkpoints.py there), never today's, and is loaded here as rows, as an
upgrade finds them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, insert, select

from audit.integrity.chain_check import verify_chain
from audit.integrity.checkpoints import CheckpointSigner, request_checkpoint, verify_checkpoints
from audit.integrity.log_export import export_lines
from audit.integrity.models import AuditCheckpoint, AuditMerkleNode, AuditSigningKey
from audit.integrity.offline_verifier import verify_export
from audit.log.actions import AuditAction, Outcome
from audit.log.append import AuditActor, record_event
from audit.log.models import AuditEvent
from audit.review.alerts import AlertRules
from core.db import make_engine, make_session_factory
from core.migrations import upgrade
from tests.sequencing import drain, seq_of

PREVIOUS = json.loads(
    (Path(__file__).parents[1] / "data" / "audit_log_227caff.json").read_text(encoding="utf-8")
)
TABLES: dict[str, Table] = {
    model.__tablename__: model.__table__  # type: ignore[misc]
    for model in (AuditSigningKey, AuditEvent, AuditCheckpoint, AuditMerkleNode)
}
SIGNER = CheckpointSigner.from_seed(
    base64.b64decode(PREVIOUS["signing_seed_b64"]), origin=PREVIOUS["origin"], every=5
)
WRITTEN_AT = datetime(2026, 12, 3, 10, 0, 0, 123456, tzinfo=UTC)  # the first event's time


def as_stored(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """A dumped row as the models take it: times aware UTC, JSON parsed."""
    values = dict(row)
    for name, value in row.items():
        kind = type(table.c[name].type).__name__
        if value is not None and kind == "UTCDateTime":
            values[name] = datetime.fromisoformat(value).replace(tzinfo=UTC)
        elif value is not None and kind == "JSON":
            values[name] = json.loads(value)
    return values


@pytest.fixture
def upgraded(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    upgrade(engine, "0011")
    with engine.begin() as connection:
        for name, table in TABLES.items():
            connection.execute(
                insert(table), [as_stored(table, row) for row in PREVIOUS["tables"][name]]
            )
    upgrade(engine)
    yield engine
    engine.dispose()


def test_a_log_written_before_the_queue_verifies_after_the_upgrade(upgraded: Engine) -> None:
    with make_session_factory(upgraded)() as session:
        chain = verify_chain(session)
        checkpoints = verify_checkpoints(session, SIGNER)
    assert chain.ok and chain.events_checked == 15, chain.problem
    assert checkpoints.ok and checkpoints.checkpoints_checked == 3, checkpoints.problem


def test_it_grows_under_the_sequencer_and_exports_for_the_offline_verifier(
    upgraded: Engine,
    tmp_path: Path,
) -> None:
    factory = make_session_factory(upgraded)
    researcher = AuditActor(
        user_id=7,
        issuer="https://idp.example.org",
        subject="anaïs",
        roles=("researcher",),
        ip="192.0.2.1",
    )
    with factory.begin() as session:
        # Four more downloads in the hour the previous revision already alerted on: the
        # alert window is rebuilt from the old chain, so they raise no second alert.
        for n in range(4):
            record_event(
                session,
                researcher,
                AuditAction.URL_ISSUE,
                now=WRITTEN_AT + timedelta(seconds=30 + n),
                target_type="file",
                target_id="1",
                details={"dataset_id": 2, "n": 100 + n},
            )
        record_event(
            session,
            AuditActor(ip="192.0.2.9"),
            AuditAction.LOGIN_FAILED,
            now=WRITTEN_AT + timedelta(minutes=5),
            outcome=Outcome.DENIED,
        )
        asked = request_checkpoint(session, AuditActor(), WRITTEN_AT + timedelta(minutes=6))
    drain(factory, signer=SIGNER, rules=AlertRules(3, 10))
    tree_size = seq_of(factory, asked.id)
    assert tree_size == 21
    with factory() as session:
        alerts = session.scalars(
            select(AuditEvent.seq).where(AuditEvent.action == "audit:alert")
        ).all()
        chain = verify_chain(session)
        checkpoints = verify_checkpoints(session, SIGNER)
        export = tmp_path / "audit.jsonl"
        export.write_bytes(
            b"".join(export_lines(session, tree_size, now=datetime.now(UTC), signer=SIGNER)))
    assert len(alerts) == 1  # the previous revision's, still the only one this hour
    assert chain.ok and chain.events_checked == 21, chain.problem
    # 5, 10 and 15 from before; 20 every five; 21 asked for.
    assert checkpoints.ok and checkpoints.checkpoints_checked == 5, checkpoints.problem
    report = verify_export(export, [SIGNER.public_key])
    assert report.ok, report.finding
    assert (report.events, report.checkpoints) == (21, 5)
