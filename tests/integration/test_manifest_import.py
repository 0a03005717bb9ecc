"""`flask datasets import`: a good manifest registers every file with its audit event; a manifest
with any bad line registers nothing and the report names every bad line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select

from audit.log.models import AuditEvent
from datasets.catalogue.models import DataFile
from datasets.demo import synthetic_study as demo_study
from datasets.storage import Storage
from tests.conftest import DemoInstance

HEADER = "location\tkind\ttier\tdataset\tsize\tsha256\tmd5\tname\tdescription"
DATASET = demo_study.CONSENT_GROUP_ACCESSION
OBJECTS = {"imports/chr1.vcf.gz": b"chromosome 1 calls" * 100,
           "imports/clinical.tsv": b"SUBJID\tAGE\nGTEX-X\t60-69\n"}


def line(key: str, content: bytes, **changes: str) -> str:
    values = {"location": key, "kind": "genotype", "tier": "controlled", "dataset": DATASET,
              "size": str(len(content)), "sha256": hashlib.sha256(content).hexdigest(),
              "md5": hashlib.md5(content, usedforsecurity=False).hexdigest(), "name": "",
              "description": "imported"}
    values.update(changes)
    return "\t".join(values[column] for column in HEADER.split("\t"))


@pytest.fixture
def stored(demo: DemoInstance, tmp_path: Path) -> Storage:
    storage: Storage = demo.app.extensions["custodian.storage"]
    for key, content in OBJECTS.items():
        source = tmp_path / key.rsplit("/", 1)[-1]
        source.write_bytes(content)
        storage.put_file(key, source)
    return storage


def run_import(demo: DemoInstance, tmp_path: Path, *lines: str) -> Result:
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return demo.app.test_cli_runner().invoke(args=["datasets", "import", str(manifest)])


def counts(demo: DemoInstance) -> tuple[int, int]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return (session.scalar(select(func.count()).select_from(DataFile)) or 0,
                session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_good_manifest_registers_every_file_with_audit_events(
    demo: DemoInstance, stored: Storage, tmp_path: Path
) -> None:
    genotype, clinical = OBJECTS.items()
    result = run_import(demo, tmp_path, HEADER, line(*genotype, name="chr1 calls.vcf.gz"),
                        line(*clinical, kind="clinical"))
    assert result.exit_code == 0, result.output
    assert "Registered 2 files" in result.output
    with demo.app.extensions["custodian.session_factory"]() as session:
        files = {f.storage_key: f for f in session.scalars(
            select(DataFile).where(DataFile.storage_key.in_(OBJECTS)))}
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "admin:file_register", AuditEvent.target_id.in_(
                [str(f.id) for f in files.values()]))).all()
        assert files["imports/chr1.vcf.gz"].name == "chr1 calls.vcf.gz"
        assert files["imports/clinical.tsv"].name == "clinical.tsv"
        assert files["imports/clinical.tsv"].kind == "clinical"
        for key, content in OBJECTS.items():
            assert files[key].sha256 == hashlib.sha256(content).hexdigest()
            assert files[key].size == len(content)
            assert files[key].dataset.accession == DATASET
        assert sorted(event.details["key"] for event in events) == sorted(OBJECTS)
    verified = demo.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


GOOD_KEY, GOOD_CONTENT = "imports/chr1.vcf.gz", OBJECTS["imports/chr1.vcf.gz"]
OTHER_KEY, OTHER_CONTENT = "imports/clinical.tsv", OBJECTS["imports/clinical.tsv"]


@pytest.mark.parametrize("bad_line, fragment", [
    (line(OTHER_KEY, OTHER_CONTENT, dataset="phs999999.c1"),
     "no dataset has the accession 'phs999999.c1'"),
    (line(OTHER_KEY, OTHER_CONTENT, kind="rna"), "kind 'rna' is not one of"),
    (line(OTHER_KEY, OTHER_CONTENT, tier="public"), "tier 'public' is not one of"),
    (line(OTHER_KEY, OTHER_CONTENT, size="1"),
     f"size is 1 in the manifest but {len(OTHER_CONTENT)} in storage"),
    (line(OTHER_KEY, OTHER_CONTENT, sha256="0" * 64), "sha256 is 000"),
    (line(OTHER_KEY, OTHER_CONTENT, md5="0" * 32), "md5 is 000"),
    (line(OTHER_KEY, OTHER_CONTENT, size="lots"), "size must be a whole number"),
    (line(GOOD_KEY, GOOD_CONTENT), "is already listed on line 2"),
    (line(f"{demo_study.STUDY_ACCESSION}/missing.vcf.gz", b"x"), "no object is stored at"),
    (line("../outside.txt", b"x"), "must be a relative key"),
    (line(OTHER_KEY, OTHER_CONTENT) + "\tone too many", "expected 9 tab-separated fields"),
], ids=["unknown-dataset", "unknown-kind", "unknown-tier", "size-mismatch", "sha256-mismatch",
        "md5-mismatch", "malformed-size", "duplicate", "missing-object", "escaping-key",
        "malformed-row"])
def test_a_bad_line_registers_nothing_and_is_named(
    demo: DemoInstance, stored: Storage, tmp_path: Path, bad_line: str, fragment: str
) -> None:
    before = counts(demo)
    result = run_import(demo, tmp_path, HEADER, line(GOOD_KEY, GOOD_CONTENT), bad_line)
    assert result.exit_code == 1, result.output
    assert "nothing was registered" in result.output
    assert "line 3: " in result.output and fragment in result.output, result.output
    assert "line 2:" not in result.output
    assert counts(demo) == before


def test_an_already_registered_location_is_refused(demo: DemoInstance, tmp_path: Path) -> None:
    with demo.app.extensions["custodian.session_factory"]() as session:
        existing = session.scalars(select(DataFile).order_by(DataFile.id)).first()
        assert existing is not None
        taken = line(existing.storage_key, b"", size=str(existing.size), sha256=existing.sha256,
                     md5=existing.md5)
    before = counts(demo)
    result = run_import(demo, tmp_path, HEADER, taken)
    assert result.exit_code == 1
    assert f"line 2: location '{existing.storage_key}' is already registered" in result.output
    assert counts(demo) == before


def test_the_report_lists_every_bad_line(
    demo: DemoInstance, stored: Storage, tmp_path: Path
) -> None:
    before = counts(demo)
    result = run_import(demo, tmp_path, HEADER, line(GOOD_KEY, GOOD_CONTENT, kind="rna"),
                        line(OTHER_KEY, OTHER_CONTENT), line("imports/none", b"", size="0"),
                        "garbage")
    assert result.exit_code == 1
    assert "3 problem(s)" in result.output
    for number in (2, 4, 5):
        assert f"line {number}: " in result.output
    assert counts(demo) == before


def test_a_manifest_that_is_not_utf8_is_refused(demo: DemoInstance, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.tsv"
    manifest.write_bytes(HEADER.encode() + b"\n\xff\xfe\n")
    result = demo.app.test_cli_runner().invoke(args=["datasets", "import", str(manifest)])
    assert result.exit_code == 1
    assert "not UTF-8" in result.output
