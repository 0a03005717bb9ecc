"""``flask audit export`` with its events encoded in several processes: the same bytes as
one process writes, for an intact log and a damaged one, and checkpoint proofs read many
at a time that the offline verifier accepts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

import audit.integrity.export_processes as export_processes
from audit.extensions import checkpoint_signer
from audit.integrity.checkpoints import BrokenLog, CheckpointSigner, request_checkpoint
from audit.integrity.export_processes import event_batches_in_processes
from audit.integrity.log_export import PROOFS_READ_TOGETHER, export_lines
from audit.integrity.merkle import NodeKey, consistency_proof, nodes_needed
from audit.integrity.models import AuditCheckpoint, AuditMerkleNode
from audit.integrity.offline_verifier import verify_export
from audit.log.actions import AuditAction
from audit.log.alarm import commit_audited
from audit.log.append import SYSTEM, record_event
from audit.log.models import AuditEvent
from tests.conftest import ONLY_POSTGRESQL, DemoInstance
from tests.integration.tampering import tamper_as_dba

EXPORTED_AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
# More checkpoints than are proved from one read of the tree's nodes, so that one export
# crosses from one read to the next.
CHECKPOINTS = PROOFS_READ_TOGETHER + 6


def grow_the_log(demo: DemoInstance) -> int:
    """Events of several kinds, non-ASCII details among them, and a checkpoint after each
    few (the demo chains and checkpoints as each transaction commits); the tree size."""
    factory = demo.app.extensions["custodian.session_factory"]
    for n in range(CHECKPOINTS):
        with demo.app.app_context(), factory() as session:
            record_event(session, SYSTEM, AuditAction.URL_ISSUE, now=demo.clock.now(),
                         target_type="file", target_id=str(n),
                         details={"dataset_id": 1, "note": f"échantillon {n} — 試料"})
            request_checkpoint(session, SYSTEM, demo.clock.now())
            commit_audited(session)
    with factory() as session:
        size = session.scalar(select(func.max(AuditEvent.seq)))
        checkpoints = session.scalar(select(func.count()).select_from(AuditCheckpoint))
    assert size is not None and checkpoints is not None and checkpoints >= CHECKPOINTS
    return int(size)


def exported(demo: DemoInstance, tree_size: int, signer: CheckpointSigner,
             batches: Iterable[tuple[Sequence[int], list[bytes]]] | None = None) -> bytes:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return b"".join(export_lines(session, tree_size, now=EXPORTED_AT, signer=signer,
                                     batches=batches))


def in_processes(demo: DemoInstance, tree_size: int, processes: int
                 ) -> Iterable[tuple[Sequence[int], list[bytes]]]:
    return event_batches_in_processes(demo.app.extensions["custodian.engine"], tree_size,
                                      processes)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranges of 7 seqs, so a few hundred events make many batches across the processes
    and a checkpoint falls at a range's every position."""
    monkeypatch.setattr(export_processes, "BATCH", 7)


@ONLY_POSTGRESQL
def test_processes_write_the_bytes_one_process_writes_and_the_verifier_accepts_them(
    demo: DemoInstance, small_batches: None, tmp_path: Path
) -> None:
    tree_size = grow_the_log(demo)
    with demo.app.app_context():
        signer = checkpoint_signer()
    alone = exported(demo, tree_size, signer)
    for processes in (2, 3):
        assert exported(demo, tree_size, signer, in_processes(demo, tree_size, processes)) == alone
    path = tmp_path / "audit.jsonl"
    path.write_bytes(alone)
    report = verify_export(path, [signer.public_key])
    assert report.ok, report.describe()
    assert report.events == tree_size and report.checkpoints >= CHECKPOINTS


@ONLY_POSTGRESQL
def test_a_damaged_log_exports_the_same_from_processes_and_the_verifier_names_the_damage(
    demo: DemoInstance, small_batches: None, tmp_path: Path
) -> None:
    tree_size = grow_the_log(demo)
    with demo.app.app_context():
        signer = checkpoint_signer()
    altered, removed = tree_size // 3, tree_size // 2
    tamper_as_dba(
        demo,
        update(AuditEvent).where(AuditEvent.seq == altered).values(target_id="forged"),
        delete(AuditEvent).where(AuditEvent.seq == removed),
    )
    alone = exported(demo, tree_size, signer)
    assert exported(demo, tree_size, signer, in_processes(demo, tree_size, 2)) == alone
    path = tmp_path / "audit.jsonl"
    path.write_bytes(alone)
    report = verify_export(path, [signer.public_key])
    assert not report.ok and report.finding is not None
    assert f"event {altered}" in report.finding.message, report.describe()


def proof_reads(old: int, new: int) -> set[NodeKey]:
    return nodes_needed(lambda node: consistency_proof(old, new, node))


@ONLY_POSTGRESQL
def test_a_proof_that_cannot_be_made_stops_the_export_at_its_own_checkpoint(
    demo: DemoInstance,
) -> None:
    """The nodes of many proofs are read together; a missing node still lets out every
    checkpoint before the first whose proof needs it, as when each proof was read alone."""
    tree_size = grow_the_log(demo)
    with demo.app.app_context():
        signer = checkpoint_signer()
    with demo.app.extensions["custodian.session_factory"]() as session:
        sizes = session.scalars(select(AuditCheckpoint.tree_size)
                                .order_by(AuditCheckpoint.tree_size)).all()
    # proofs[k] is what the checkpoint sizes[k + 1] reads to show it extends sizes[k].
    proofs = [proof_reads(old, new) for old, new in pairwise(sizes)]
    broken = PROOFS_READ_TOGETHER + 3  # three into the second read of nodes
    first_needed_by_it = proofs[broken - 1] - set().union(*proofs[:broken - 1])
    level, position = min(key for key in first_needed_by_it if key[0] > 0)  # not a leaf
    tamper_as_dba(demo, delete(AuditMerkleNode).where(
        AuditMerkleNode.level == level, AuditMerkleNode.position == position))
    lines: list[bytes] = []
    with demo.app.extensions["custodian.session_factory"]() as session, \
            pytest.raises(BrokenLog, match="tree nodes are missing"):
        for piece in export_lines(session, tree_size, now=EXPORTED_AT, signer=signer):
            lines.extend(piece.splitlines())
    written = [line for line in lines if line.startswith(b'{"type":"checkpoint"')]
    assert len(written) == broken


@ONLY_POSTGRESQL
def test_the_command_exports_in_processes_and_refuses_none(
    demo: DemoInstance, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    done = demo.app.test_cli_runner().invoke(args=["audit", "export", str(path),
                                                   "--processes", "2"])
    assert done.exit_code == 0, done.output
    with demo.app.app_context():
        public_key = checkpoint_signer().public_key
    report = verify_export(path, [public_key])
    assert report.ok, report.describe()
    refused = demo.app.test_cli_runner().invoke(
        args=["audit", "export", str(tmp_path / "none.jsonl"), "--processes", "0"])
    assert refused.exit_code == 2 and "--processes" in refused.output
    assert not (tmp_path / "none.jsonl").exists()


def test_the_worker_module_imports_without_the_app() -> None:
    """Spawned workers import only what encoding needs: no Flask app is built in them."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, audit.integrity.export_processes; "
         "print('app' in sys.modules, 'flask' in sys.modules)"],
        capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
