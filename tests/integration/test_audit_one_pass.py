"""`flask audit verify` checks the chain and the checkpoints in one pass (integrity/log_check.py)
and still finds everything the two separate checks found, with the same reports.

Each tamper is checked through the command and against ``verify_chain`` and
``verify_checkpoints`` run one after the other, with batches small enough that checkpoints
fall inside them and between them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import pytest
from sqlalchemy import delete, insert, select, update

from audit.integrity.chain_check import verify_chain
from audit.integrity.checkpoints import CheckpointReport, CheckpointSigner, verify_checkpoints
from audit.integrity.log_check import LogReport, verify_log
from audit.integrity.models import AuditCheckpoint
from audit.log.models import AuditEvent
from tests.conftest import DemoInstance
from tests.integration.audit_support import event_count
from tests.integration.tampering import tamper_as_dba
from tests.integration.test_audit_integrity import checkpoint, cli, demo_signer

BATCH_SIZES = (1, 2, 3, 10_000)
T = TypeVar("T")


def one_pass_as_two(demo: DemoInstance) -> LogReport:
    """The one pass's report, once it is shown to be the two checks' at every batch size."""
    signer = demo_signer(demo)
    with demo.app.extensions["custodian.session_factory"]() as session:
        two = LogReport(verify_chain(session), verify_checkpoints(session, signer))
        for batch_size in BATCH_SIZES:
            assert verify_log(session, signer, batch_size) == two, batch_size
    return two


def test_an_intact_log_with_several_checkpoints_verifies_in_one_pass(
    demo: DemoInstance,
) -> None:
    sizes = [checkpoint(demo) for _ in range(3)]
    report = one_pass_as_two(demo)
    assert report.ok and report.checkpoints.checkpoints_checked >= len(sizes)
    assert report.chain.events_checked == event_count(demo)
    code, output = cli(demo, "audit", "verify")
    assert code == 0, output
    assert f"{report.checkpoints.checkpoints_checked} checkpoints verified" in output


def test_a_tampered_leaf_hash_fails_the_chain_and_the_checkpoint(demo: DemoInstance) -> None:
    size = checkpoint(demo)
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == 4).values(leaf_hash="ab" * 32))
    report = one_pass_as_two(demo)
    assert report.chain.first_bad_seq == 4
    assert report.checkpoints.problem == (
        f"checkpoint {size}: the events no longer have the root it signed")
    code, output = cli(demo, "audit", "verify")
    assert code == 1
    assert "first bad event is seq 4" in output
    assert "Merkle leaf hash that does not match its content" in output


def test_a_leaf_hash_that_is_not_a_hash_is_reported_not_raised(demo: DemoInstance) -> None:
    size = checkpoint(demo)
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == 2).values(leaf_hash="zz"))
    with demo.app.extensions["custodian.session_factory"]() as session:
        report = verify_log(session, demo_signer(demo), batch_size=3)
    assert report.chain.first_bad_seq == 2
    assert report.checkpoints.problem == (
        f"checkpoint {size}: the events no longer have the root it signed")
    assert cli(demo, "audit", "verify")[0] == 1


def test_a_bad_leaf_past_the_last_checkpoint_fails_the_chain_but_no_checkpoint(
    demo: DemoInstance,
) -> None:
    """Leaves are decoded only as far as a checkpoint needs them: a bad one beyond the last
    is the chain's finding, not the signed checkpoints'."""
    size = checkpoint(demo)
    assert cli(demo, "audit", "verify")[0] == 0  # its own event goes after the checkpoint
    assert event_count(demo) > size
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == size + 1)
                  .values(leaf_hash="zz"))
    with demo.app.extensions["custodian.session_factory"]() as session:
        for batch_size in BATCH_SIZES:
            report = verify_log(session, demo_signer(demo), batch_size)
            assert report.chain.first_bad_seq == size + 1, batch_size
            assert report.checkpoints.ok, (batch_size, report.checkpoints.problem)


def test_checkpoints_are_still_checked_past_an_edited_event(demo: DemoInstance) -> None:
    """The chain's report stops at its first bad event; the checkpoints' goes on over the
    stored leaves, as verify_checkpoints did, so the command's record holds both."""
    checkpoint(demo)
    checkpoint(demo)
    tamper_as_dba(demo, update(AuditEvent).where(AuditEvent.seq == 3)
                  .values(details={"name": "quietly changed"}))
    report = one_pass_as_two(demo)
    assert report.chain.first_bad_seq == 3
    assert report.checkpoints.ok and report.checkpoints.checkpoints_checked >= 2


def test_a_tampered_checkpoint_root_fails_in_one_pass(demo: DemoInstance) -> None:
    size = checkpoint(demo)
    tamper_as_dba(demo, update(AuditCheckpoint).where(AuditCheckpoint.tree_size == size)
                  .values(root_hash="00" * 32))
    report = one_pass_as_two(demo)
    assert report.chain.ok
    assert report.checkpoints.problem == (
        f"checkpoint {size}: its signed note names another tree size or root")
    code, output = cli(demo, "audit", "verify")
    assert code == 1
    assert f"FAILED: checkpoint {size}: its signed note names another tree size or root" in output


def test_a_tampered_checkpoint_signature_fails_in_one_pass(demo: DemoInstance) -> None:
    first, size = checkpoint(demo), checkpoint(demo)
    with demo.app.extensions["custodian.session_factory"]() as session:
        note = session.scalars(select(AuditCheckpoint.note)
                               .where(AuditCheckpoint.tree_size == size)).one()
    # The signature line ends "<key name> <base64 of key id and signature>"; change a byte.
    body, _, signature_line = note.rstrip("\n").rpartition("\n")
    flipped = signature_line[:-4] + ("AAAA" if signature_line[-4:] != "AAAA" else "BBBB")
    tamper_as_dba(demo, update(AuditCheckpoint).where(AuditCheckpoint.tree_size == size)
                  .values(note=f"{body}\n{flipped}\n"))
    report = one_pass_as_two(demo)
    assert report.chain.ok and not report.checkpoints.ok
    assert report.checkpoints.problem is not None
    assert report.checkpoints.problem.startswith(f"checkpoint {size}: ")
    # Every checkpoint before it verified.
    assert report.checkpoints.checkpoints_checked >= 1 and first < size
    code, output = cli(demo, "audit", "verify")
    assert code == 1
    assert f"FAILED: {report.checkpoints.problem}" in output


def test_a_cut_tail_fails_in_one_pass(demo: DemoInstance) -> None:
    """A chain cut short still links: the last signed checkpoint says how long it was."""
    first = checkpoint(demo)
    last = checkpoint(demo)
    tamper_as_dba(demo, delete(AuditEvent).where(AuditEvent.seq == last))
    report = one_pass_as_two(demo)
    assert report.chain.ok and report.chain.events_checked == last - 1
    assert report.checkpoints.problem == (
        f"checkpoint {last} covers more events than the log holds ({last - 1})")
    assert first < last and report.checkpoints.checkpoints_checked >= 1
    code, output = cli(demo, "audit", "verify")
    assert code == 1
    assert f"checkpoint {last} covers more events than the log holds" in output


@pytest.mark.parametrize("size", [-1, 0])
def test_a_checkpoint_row_of_no_real_size_fails_verify_and_does_not_hang_it(
    demo: DemoInstance, size: int
) -> None:
    """Rows put in audit_checkpoints by hand, with a size no tree of events has: growing the
    tree towards a size below the one it has reached would never end, so each check reports
    the row instead (in a thread, so that a regression fails the test rather than hangs it)."""
    real = checkpoint(demo)
    with demo.app.extensions["custodian.session_factory"]() as session:
        stored = session.get(AuditCheckpoint, real)
        assert stored is not None
        copied = {"root_hash": stored.root_hash, "key_id": stored.key_id, "note": stored.note,
                  "created_at": stored.created_at}
    tamper_as_dba(demo, insert(AuditCheckpoint).values(tree_size=size, **copied))
    expected = f"checkpoint {size}: no tree of events has that size"
    signer = demo_signer(demo)
    for batch_size in BATCH_SIZES:
        one_pass, alone = _within(10, partial(_both_checks, demo, signer, batch_size))
        assert one_pass.chain.ok
        assert (one_pass.checkpoints.ok, one_pass.checkpoints.problem) == (False, expected)
        assert one_pass.checkpoints == alone, batch_size
    code, output = _within(30, lambda: cli(demo, "audit", "verify"))
    assert code == 1
    assert f"FAILED: {expected}" in output


def _both_checks(
    demo: DemoInstance, signer: CheckpointSigner, batch_size: int
) -> tuple[LogReport, CheckpointReport]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return verify_log(session, signer, batch_size), verify_checkpoints(session, signer)


def _within(seconds: float, call: Callable[[], T]) -> T:
    """``call``'s answer, failing the test if it takes longer than ``seconds`` (the thread is
    a daemon's, so a call that never ends does not keep the test run from ending)."""
    answers: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            answers.append(call())
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still running after {seconds} s: it hangs")
    if errors:
        raise errors[0]
    return answers[0]
