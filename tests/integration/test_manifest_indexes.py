"""Manifests that register an indexed VCF, BAM or CRAM with its index: the index is checked to
belong to its file, and a manifest with any bad index registers nothing."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pysam
import pytest
from sqlalchemy import select

from audit.log.models import AuditEvent
from datasets.catalogue.models import DataFile
from datasets.demo import synthetic_study as demo_study
from datasets.demo.alignments import write_cram
from datasets.genomics import bgzf
from datasets.storage import Storage
from tests.conftest import DemoInstance
from tests.htsget_support import stored_path, vcf_and_bams
from tests.integration.test_manifest_import import counts, run_import

HEADER = "location\tkind\ttier\tdataset\tsize\tsha256\tmd5\tindex_location\tindex_sha256"
DATASET = demo_study.CONSENT_GROUP_ACCESSION


def write_vcf(folder: Path, name: str, seed: int) -> Path:
    rng = random.Random(seed)
    lines = ["##fileformat=VCFv4.2", "##contig=<ID=chr21,length=46709983>",
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    lines += [f"chr21\t{pos}\t.\tA\tT\t.\tPASS\t." for pos in
              sorted(rng.sample(range(1, 46_000_000), 20_000))]
    path = folder / name
    path.write_bytes(bgzf.compress(("\n".join(lines) + "\n").encode()) + bgzf.EOF_BLOCK)
    pysam.tabix_index(str(path), preset="vcf", force=True, keep_original=True)
    return path


def line(key: str, path: Path, index_key: str = "", index_path: Path | None = None,
         **changes: str) -> str:
    content = path.read_bytes()
    values = {"location": key, "kind": "genotype", "tier": "controlled", "dataset": DATASET,
              "size": str(len(content)), "sha256": hashlib.sha256(content).hexdigest(),
              "md5": hashlib.md5(content, usedforsecurity=False).hexdigest(),
              "index_location": index_key,
              "index_sha256": hashlib.sha256(index_path.read_bytes()).hexdigest()
              if index_path else ""}
    values.update(changes)
    return "\t".join(values[column] for column in HEADER.split("\t"))


@pytest.fixture
def files(demo: DemoInstance, tmp_path: Path) -> dict[str, Path]:
    storage: Storage = demo.app.extensions["custodian.storage"]
    made = {"a": write_vcf(tmp_path, "a.vcf.gz", 1), "b": write_vcf(tmp_path, "b.vcf.gz", 2)}
    for name, path in list(made.items()):
        storage.put_file(f"imports/{name}.vcf.gz", path)
        storage.put_file(f"imports/{name}.vcf.gz.tbi", Path(f"{path}.tbi"))
        made[f"{name}.tbi"] = Path(f"{path}.tbi")
    return made


def test_a_vcf_with_its_index_is_registered_and_can_be_sliced(
    demo: DemoInstance, files: dict[str, Path], tmp_path: Path
) -> None:
    result = run_import(demo, tmp_path, HEADER, line(
        "imports/a.vcf.gz", files["a"], "imports/a.vcf.gz.tbi", files["a.tbi"]))
    assert result.exit_code == 0, result.output
    with demo.app.extensions["custodian.session_factory"]() as session:
        registered = session.scalars(select(DataFile).where(
            DataFile.storage_key == "imports/a.vcf.gz")).one()
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "admin:file_register").order_by(AuditEvent.seq.desc())).first()
    assert (registered.data_format, registered.index_format) == ("VCF", "tbi")
    assert registered.index_key == "imports/a.vcf.gz.tbi"
    assert registered.index_size == files["a.tbi"].stat().st_size
    assert event is not None and event.details["index"]["key"] == "imports/a.vcf.gz.tbi"


@pytest.mark.parametrize(("problem", "message"), [
    ("other", "does not belong to"),
    ("sha", "index sha256 is"),
    ("missing", "no object is stored at"),
    ("half", "go together"),
    ("suffix", "must end in .tbi, .csi, .bai or .crai"),
    ("own", "the data file's own location"),
])
def test_a_bad_index_registers_nothing_and_names_the_line(
    demo: DemoInstance, files: dict[str, Path], tmp_path: Path, problem: str, message: str
) -> None:
    good = line("imports/b.vcf.gz", files["b"])  # fine on its own: plain, without an index
    bad = {
        "other": line("imports/a.vcf.gz", files["a"], "imports/b.vcf.gz.tbi", files["b.tbi"]),
        "sha": line("imports/a.vcf.gz", files["a"], "imports/a.vcf.gz.tbi", files["b.tbi"]),
        "missing": line("imports/a.vcf.gz", files["a"], "imports/none.tbi", files["a.tbi"]),
        "half": line("imports/a.vcf.gz", files["a"], "imports/a.vcf.gz.tbi"),
        "suffix": line("imports/a.vcf.gz", files["a"], "imports/a.vcf.gz.idx", files["a"]),
        "own": line("imports/a.vcf.gz", files["a"], "imports/a.vcf.gz", files["a"]),
    }[problem]
    before = counts(demo)
    result = run_import(demo, tmp_path, HEADER, good, bad)
    assert result.exit_code != 0
    assert "line 3" in result.output and message in result.output, result.output
    assert counts(demo) == before


def test_a_cram_with_its_crai_is_registered_and_another_crams_crai_is_refused(
    demo: DemoInstance, tmp_path: Path
) -> None:
    storage: Storage = demo.app.extensions["custodian.storage"]
    crams = {}
    bams = {f.name: f for f in vcf_and_bams(demo)[1]}
    for tissue in ("Lung", "Whole_Blood"):
        bam = stored_path(demo, bams[f"GTEx_demo.rnaseq.{tissue}.bam"].storage_key)
        crams[tissue] = tmp_path / f"{tissue}.cram"
        write_cram(bam, crams[tissue])
        storage.put_file(f"imports/{tissue}.cram", crams[tissue])
        storage.put_file(f"imports/{tissue}.cram.crai", Path(f"{crams[tissue]}.crai"))
    lung, blood = crams["Lung"], crams["Whole_Blood"]
    before = counts(demo)
    refused = run_import(demo, tmp_path, HEADER, line(
        "imports/Lung.cram", lung, "imports/Whole_Blood.cram.crai", Path(f"{blood}.crai"),
        kind="alignment"))
    assert refused.exit_code != 0 and "does not belong to" in refused.output, refused.output
    assert counts(demo) == before
    result = run_import(demo, tmp_path, HEADER, line(
        "imports/Lung.cram", lung, "imports/Lung.cram.crai", Path(f"{lung}.crai"),
        kind="alignment"))
    assert result.exit_code == 0, result.output
    with demo.app.extensions["custodian.session_factory"]() as session:
        registered = session.scalars(select(DataFile).where(
            DataFile.storage_key == "imports/Lung.cram")).one()
    assert (registered.data_format, registered.index_format) == ("CRAM", "crai")
