"""`flask audit verify` passes on an untouched log and names the first event that was changed.

The database refuses such changes itself (test_audit_integrity.py), so each tamper here is
done as the database owner would, with the append-only triggers switched off first.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from audit.log.models import AuditEvent
from tests.conftest import DemoInstance
from tests.integration.tampering import tamper_as_dba


def verify(demo: DemoInstance) -> tuple[int, str]:
    result = demo.app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def event_count(demo: DemoInstance) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return len(session.scalars(select(AuditEvent.seq)).all())


def test_intact_log_verifies(demo: DemoInstance) -> None:
    count = event_count(demo)
    code, output = verify(demo)
    assert code == 0, output
    assert f"OK: {count} audit events verified" in output


def test_edited_event_fails_verification_and_is_named(demo: DemoInstance) -> None:
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == 5)
                  .values(details={"name": "quietly changed"}))
    code, output = verify(demo)
    assert code == 1
    assert "first bad event is seq 5" in output
    assert "altered" in output


def test_edited_actor_fails_verification(demo: DemoInstance) -> None:
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == 3).values(actor_user_id=42))
    code, output = verify(demo)
    assert code == 1 and "seq 3" in output


def test_deleted_event_fails_verification(demo: DemoInstance) -> None:
    tamper_as_dba(demo, delete(AuditEvent).where(AuditEvent.seq == 4))
    code, output = verify(demo)
    assert code == 1
    assert "event 4 is missing" in output


def test_removed_tail_fails_verification(demo: DemoInstance) -> None:
    """A chain cut short still links: the last signed checkpoint says how long it was."""
    assert demo.app.test_cli_runner().invoke(args=["audit", "checkpoint"]).exit_code == 0
    last = event_count(demo)
    tamper_as_dba(demo, delete(AuditEvent).where(AuditEvent.seq == last))
    code, output = verify(demo)
    assert code == 1
    assert f"checkpoint {last} covers more events than the log holds" in output


def test_rehashed_edit_is_still_caught_by_the_next_link(demo: DemoInstance) -> None:
    """Rehashing the edited event is not enough: the next event still links to the old hash."""
    from audit.log.append import hashed_fields
    from audit.log.chain import event_hashes

    with demo.app.extensions["custodian.session_factory"]() as session:
        event = session.get(AuditEvent, 6)
        assert event is not None
        event.target_id = "999"
        rehashed, leaf = event_hashes(event.prev_hash, hashed_fields(event))
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == 6)
                  .values(target_id="999", hash=rehashed, leaf_hash=leaf))
    code, output = verify(demo)
    assert code == 1
    assert "event 7 does not link" in output


def test_verification_is_itself_audited(demo: DemoInstance) -> None:
    before = event_count(demo)
    verify(demo)
    with demo.app.extensions["custodian.session_factory"]() as session:
        last = session.get(AuditEvent, before + 1)
    assert last is not None and last.action == "audit:verify"


def test_a_changed_leaf_hash_is_named_even_though_it_changes_the_chain_format(
    demo: DemoInstance,
) -> None:
    """An event's hash equals its leaf hash (LINKED); a different leaf hash makes it read as
    SEPARATE, and the check still names the leaf hash, not the content."""
    with demo.app.extensions["custodian.session_factory"]() as session:
        stored = session.execute(select(AuditEvent.hash, AuditEvent.leaf_hash)
                                 .where(AuditEvent.seq == 4)).one()
    assert stored.hash == stored.leaf_hash
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == 4).values(leaf_hash="ab" * 32))
    code, output = verify(demo)
    assert code == 1
    assert "first bad event is seq 4" in output
    assert "Merkle leaf hash that does not match its content" in output
