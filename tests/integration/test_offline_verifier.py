"""`flask audit export` and the stand-alone verifier: one tamper per kind, each named.

Most tampering is done on the exported file, which is what an auditor holds; the verifier
must catch it with nothing but the file and the public key.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Text, cast, select, text

import audit
from app import create_app
from audit.integrity.export_format import event_line
from audit.integrity.offline_verifier import Report, verify_export
from audit.integrity.signed_note import (
    checkpoint_text,
    load_public_key_pem,
    public_key_pem,
    raw_public_key,
    sign_note,
)
from audit.log.chain import event_hashes
from audit.log.models import AuditEvent
from tests.conftest import DemoInstance, issue_token
from tests.integration.tampering import tamper_as_dba

VERIFIER_FILES = ("__init__.py", "verify.py", "log/__init__.py", "log/chain.py",
                  "integrity/__init__.py", "integrity/merkle.py", "integrity/signed_note.py",
                  "integrity/export_format.py", "integrity/offline_verifier.py")
APP_PACKAGES = ("flask", "sqlalchemy", "werkzeug", "marshmallow", "alembic", "psycopg", "app",
                "config", "core", "access", "datasets")


def cli(demo: DemoInstance, *args: str) -> str:
    result = demo.app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@dataclass
class Export:
    path: Path
    key: Path
    records: list[dict[str, Any]]
    # Event lines as the exporter lays them out (the verifier hashes their bytes), or
    # re-encoded by json.dumps (the verifier parses and re-encodes): both must be judged alike.
    laid_out: bool = True

    def index(self, kind: str, **match: Any) -> int:
        return next(i for i, record in enumerate(self.records) if record["type"] == kind
                    and all(record.get(name) == value for name, value in match.items()))

    def event(self, seq: int) -> dict[str, Any]:
        return self.records[self.index("event", seq=seq)]

    def last_seq(self) -> int:
        return max(int(record["seq"]) for record in self.records if record["type"] == "event")

    def checkpoint_sizes(self) -> list[int]:
        return [r["tree_size"] for r in self.records if r["type"] == "checkpoint"]

    def save(self) -> None:
        self.path.write_text("".join(self.line(record) for record in self.records),
                             encoding="utf-8")

    def line(self, record: dict[str, Any]) -> str:
        if self.laid_out and record["type"] == "event":
            return event_line({name: value for name, value in record.items() if name != "type"})
        return json.dumps(record, ensure_ascii=False) + "\n"

    def verify(self, *keys: Path) -> Report:
        return verify_export(self.path, [load_public_key_pem(key.read_bytes())
                                         for key in keys or (self.key,)])


def export(demo: DemoInstance, folder: Path, *, laid_out: bool = True) -> Export:
    path, key = folder / "audit.jsonl", folder / "audit-key.pem"
    cli(demo, "audit", "export", str(path))
    key.write_text(cli(demo, "audit", "public-key"))
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    exported = Export(path, key, records, laid_out)
    if not laid_out:
        exported.save()
    return exported


@pytest.fixture(params=["laid out", "re-encoded"])
def exported(demo: DemoInstance, tmp_path: Path, request: pytest.FixtureRequest) -> Export:
    """An export with three checkpoints: two on demand, and the export's own."""
    cli(demo, "audit", "checkpoint")
    cli(demo, "audit", "checkpoint")
    return export(demo, tmp_path, laid_out=request.param == "laid out")


def assert_finding(report: Report, kind: str, line: int, *words: str) -> None:
    assert report.finding is not None, report.describe()
    assert (report.finding.kind, report.finding.line) == (kind, line), report.describe()
    for word in words:
        assert word in report.finding.message, report.describe()


def rehash_from(export_: Export, seq: int) -> None:
    """What an attacker without the signing key can do best: re-chain every later event."""
    prev = export_.event(seq - 1)["hash"] if seq > 1 else "0" * 64
    for number in range(seq, export_.last_seq() + 1):
        event = export_.event(number)
        event["prev_hash"] = prev
        event["hash"], event["leaf_hash"] = event_hashes(prev, event)
        prev = event["hash"]


def test_an_untouched_export_verifies_without_anything_of_the_app(
    exported: Export, tmp_path: Path
) -> None:
    """The verifier's own files, copied out alone, run in a Python that refuses to import
    the app's packages (and the app's dependencies) at all."""
    package = tmp_path / "verifier" / "audit"
    package.mkdir(parents=True)
    for name in VERIFIER_FILES:
        (package / name).parent.mkdir(exist_ok=True)
        shutil.copy(Path(audit.__file__).parent / name, package / name)
    script = f"""
import importlib.abc, runpy, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {APP_PACKAGES!r}:
            raise ImportError("the verifier imported " + name)
sys.meta_path.insert(0, Refuse())
sys.path.insert(0, {str(package.parent)!r})
sys.argv = ["audit.verify", {str(exported.path)!r}, "--public-key", {str(exported.key)!r}]
try:
    runpy.run_module("audit.verify", run_name="__main__")
finally:
    assert sys.modules["audit"].__file__.startswith({str(package)!r}), sys.modules["audit"]
"""
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"OK: {exported.last_seq()} events and 3 checkpoints verified")


def test_the_export_records_itself_and_a_checkpoint_signs_its_last_event(
    demo: DemoInstance, exported: Export
) -> None:
    last = exported.last_seq()
    with demo.app.extensions["custodian.session_factory"]() as session:
        recorded = session.scalars(select(AuditEvent).where(AuditEvent.seq == last)).one()
    assert recorded.action == "audit:export"
    assert exported.checkpoint_sizes() == [last - 2, last - 1, last]
    assert exported.records[exported.index("checkpoint", tree_size=last)] == exported.records[-1]
    assert exported.records[0]["tree_size"] == last
    [key] = [r for r in exported.records if r["type"] == "public_key"]
    assert key["current"] and key["verifier_key"].startswith(demo.settings.audit_origin + "+")


def test_auditors_download_the_same_verifiable_export_from_the_api(
    demo: DemoInstance, tmp_path: Path
) -> None:
    client = demo.app.test_client()
    auditor = issue_token(demo, "auditor")
    response = client.get("/api/v1/audit/export", headers=auditor)
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    path, key = tmp_path / "download.jsonl", tmp_path / "key.pem"
    path.write_bytes(response.get_data())
    key.write_text(client.get("/api/v1/audit/public-key", headers=auditor)
                   .get_json()["current"]["public_key_pem"])
    downloaded = Export(path, key, [json.loads(line) for line in path.read_text().splitlines()])
    assert downloaded.verify().ok, downloaded.verify().describe()
    last = downloaded.event(downloaded.last_seq())
    assert (last["action"], last["actor_subject"], last["actor_roles"]) == \
        ("audit:export", "auditor", "auditor")
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="audit-log-{last["seq"]}.jsonl"'


def test_the_verifier_exits_0_only_when_everything_verifies(exported: Export) -> None:
    from audit.integrity.offline_verifier import main

    assert main([str(exported.path), "--public-key", str(exported.key)]) == 0
    exported.event(3)["details"] = {"forged": True}
    exported.save()
    assert main([str(exported.path), "--public-key", str(exported.key)]) == 1


def test_an_edited_event_is_named_changed(exported: Export) -> None:
    exported.event(5)["actor_user_id"] = 99
    exported.save()
    assert_finding(exported.verify(), "changed", exported.index("event", seq=5) + 1,
                   "event 5's content does not match its hash")


def test_an_edited_and_rehashed_event_is_named_by_the_link_after_it(exported: Export) -> None:
    event = exported.event(5)
    event["details"] = {"forged": True}
    event["hash"], event["leaf_hash"] = event_hashes(event["prev_hash"], event)
    exported.save()
    assert_finding(exported.verify(), "changed", exported.index("event", seq=5) + 1,
                   "event 5 was changed and re-hashed")


def test_an_edited_leaf_hash_is_named_changed(exported: Export) -> None:
    exported.event(4)["leaf_hash"] = "ab" * 32
    exported.save()
    assert_finding(exported.verify(), "changed", exported.index("event", seq=4) + 1,
                   "leaf hash")


def test_an_edited_link_is_named_changed_at_its_own_line(exported: Export) -> None:
    """The link alone edited: the event no longer hashes to itself, nor links back."""
    exported.event(6)["prev_hash"] = "cd" * 32
    exported.save()
    assert_finding(exported.verify(), "changed", exported.index("event", seq=6) + 1,
                   "event 6's link to the event before it was changed")


def test_a_deleted_event_is_named_removed(exported: Export) -> None:
    line = exported.index("event", seq=6)
    del exported.records[line]
    exported.save()
    assert_finding(exported.verify(), "removed", line + 1, "event 6 is missing",
                   "the export goes from event 5 to event 7")


def test_an_inserted_event_is_named_inserted(exported: Export) -> None:
    """A well-formed forgery, chained to its predecessor; later events renumbered."""
    line = exported.index("event", seq=7)
    forged = {**exported.event(6), "seq": 7, "details": {"forged": True}}
    forged["prev_hash"] = exported.event(6)["hash"]
    forged["hash"], forged["leaf_hash"] = event_hashes(forged["prev_hash"], forged)
    for record in exported.records[line:]:
        if record["type"] == "event":
            record["seq"] += 1
    exported.records.insert(line, forged)
    exported.save()
    assert_finding(exported.verify(), "inserted", line + 1, "event 7 is not part of the chain")


def test_a_duplicated_event_is_named_inserted(exported: Export) -> None:
    line = exported.index("event", seq=8)
    exported.records.insert(line + 1, dict(exported.records[line]))
    exported.save()
    assert_finding(exported.verify(), "inserted", line + 2, "a second event 8",
                   "(the export is at event 8; event 8 came earlier)")


def test_swapped_events_are_named_reordered(exported: Export) -> None:
    first, second = exported.index("event", seq=9), exported.index("event", seq=10)
    records = exported.records
    records[first], records[second] = records[second], records[first]
    exported.save()
    assert_finding(exported.verify(), "reordered", first + 1,
                   f"event 10 comes before event 9, which is at line {second + 1}")


def test_events_missing_before_the_last_checkpoint_are_named_truncated(exported: Export) -> None:
    last = exported.last_seq()
    del exported.records[exported.index("event", seq=last)]
    exported.save()
    assert_finding(exported.verify(), "truncated", len(exported.records),
                   f"events {last} to {last} are missing")


def test_a_file_cut_short_is_named_truncated(exported: Export) -> None:
    del exported.records[-3:]
    exported.save()
    assert_finding(exported.verify(), "truncated", len(exported.records),
                   f"its header announces {exported.records[0]['tree_size']} events")


def test_a_replaced_checkpoint_fails_its_signature(exported: Export) -> None:
    index = exported.index("checkpoint", tree_size=exported.checkpoint_sizes()[1])
    note = exported.records[index]["note"]
    origin, size, _root, rest = note.split("\n", 3)
    exported.records[index]["note"] = "\n".join([origin, size, "A" * 43 + "=", rest])
    exported.save()
    assert_finding(exported.verify(), "bad signature", index + 1, "bad signature by key")


def test_a_checkpoint_signed_by_another_key_is_refused(
    demo: DemoInstance, exported: Export
) -> None:
    index = exported.index("checkpoint", tree_size=exported.checkpoint_sizes()[0])
    text = exported.records[index]["note"].split("\n\n")[0] + "\n"
    exported.records[index]["note"] = sign_note(text, demo.settings.audit_origin,
                                                Ed25519PrivateKey.generate())
    exported.save()
    assert_finding(exported.verify(), "bad signature", index + 1, "no trusted key signed")


def test_a_validly_signed_fork_is_named_inconsistent(
    demo: DemoInstance, exported: Export
) -> None:
    """Even with the real key, a log cannot sign a tree that does not extend its past."""
    size = exported.checkpoint_sizes()[1]
    index = exported.index("checkpoint", tree_size=size)
    forked_root = bytes(32)
    exported.records[index]["note"] = sign_note(
        checkpoint_text(demo.settings.audit_origin, size, forked_root),
        demo.settings.audit_origin,
        Ed25519PrivateKey.from_private_bytes(demo.settings.audit_signing_key))
    exported.save()
    assert_finding(exported.verify(), "checkpoints inconsistent", index + 1,
                   f"does not extend the one of tree size {size - 1}")


def test_a_rewritten_history_is_caught_by_the_first_signed_root_after_it(
    exported: Export,
) -> None:
    """The chain can be redone without the key; the signed roots cannot."""
    exported.event(12)["details"] = {"forged": True}
    rehash_from(exported, 12)
    exported.save()
    first = exported.checkpoint_sizes()[0]
    assert_finding(exported.verify(), "changed", exported.index("checkpoint", tree_size=first) + 1,
                   f"events 1 to {first} do not have the root")


def test_checkpoints_of_a_rotated_out_key_need_that_key_too(
    demo: DemoInstance, tmp_path: Path
) -> None:
    cli(demo, "audit", "checkpoint")
    demo.clock.advance(timedelta(days=1))
    rotated = create_app(replace(demo.settings, audit_signing_key=bytes(range(32))),
                         clock=demo.clock)
    try:
        new = export(DemoInstance(rotated, demo.clock, demo.settings, demo.base_url), tmp_path)
    finally:
        rotated.extensions["custodian.engine"].dispose()
    old_key = tmp_path / "old-key.pem"
    old_public = raw_public_key(Ed25519PrivateKey.from_private_bytes(
        demo.settings.audit_signing_key).public_key())
    old_key.write_text(public_key_pem(old_public))
    assert_finding(new.verify(new.key), "bad signature", new.index("checkpoint") + 1,
                   "no trusted key signed")
    assert new.verify(new.key, old_key).ok
    assert [r["current"] for r in new.records if r["type"] == "public_key"] == [False, True]


def test_an_event_whose_json_is_stored_in_another_spelling_still_exports_and_verifies(
    demo: DemoInstance, tmp_path: Path
) -> None:
    """Spaces and key order in stored JSON change no value and so no hash. The exporter's
    batch encoding cannot reproduce such an event's hashes, so that event is encoded on its
    own, from its parsed fields."""
    factory = demo.app.extensions["custodian.session_factory"]
    with factory() as session:
        event = next(e for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
                     if len(e.details) >= 2)
        seq, details = event.seq, event.details
    spelled = json.dumps(dict(reversed(list(details.items()))), indent=1, ensure_ascii=False)
    statement = text("UPDATE audit_events SET details = CAST(:details AS JSON) WHERE seq = :seq"
                     if demo.app.extensions["custodian.engine"].dialect.name == "postgresql"
                     else "UPDATE audit_events SET details = :details WHERE seq = :seq")
    tamper_as_dba(demo, statement.bindparams(details=spelled, seq=seq))
    with factory() as session:
        stored = session.scalar(select(cast(AuditEvent.details, Text))
                                .where(AuditEvent.seq == seq))
    assert stored == spelled and json.loads(stored) == details
    exported = export(demo, tmp_path)
    report = exported.verify()
    assert report.ok, report.describe()
    assert exported.event(seq)["details"] == details
    verified = demo.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_key_that_is_not_an_ed25519_pem_is_a_usage_error(
    exported: Export, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from audit.integrity.offline_verifier import main

    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(SystemExit) as stopped:
        main([str(exported.path), "--public-key", str(tmp_path / "bad.pem")])
    assert stopped.value.code == 2
    assert "not a readable Ed25519 public key" in capsys.readouterr().err
