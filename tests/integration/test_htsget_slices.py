"""htsget tickets for random regions of the demo's VCF, BAMs and CRAM: their blocks, put
together, are a valid file whose records in the region are exactly what a direct pysam query
of the whole file gives; what lies outside the region is only the allowed superset (the
index's bins for BGZF files, whole containers for CRAM)."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasets.catalogue.models import DataFile
from datasets.demo.alignments import READS_PER_CONTAINER
from datasets.demo.simulation import CONTIG_LENGTHS, GENES
from tests.conftest import DemoInstance, issue_token
from tests.htsget_support import (
    HTSGET,
    SUFFIXES,
    assemble,
    crams,
    overlapping,
    records,
    stored_path,
    through_app,
    vcf_and_bams,
)
from tests.integration.audit_support import grant_access

# A fixed budget: the same examples on every run, well inside the suite's time.
BUDGET = settings(max_examples=25, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
CONTIGS = sorted(CONTIG_LENGTHS)


def regions(anchors: list[tuple[str, int]]) -> st.SearchStrategy[tuple[str, int, int]]:
    """Regions around records of the file (so most hold some, at their edges too), around
    the demo genes' TSS, and anywhere at all on the contigs."""
    def shifted(anchor: tuple[str, int], before: int, width: int) -> tuple[str, int, int]:
        start = max(0, anchor[1] - before)
        return anchor[0], start, start + width
    genes = [(gene.chromosome, gene.tss) for gene in GENES]
    near = st.builds(shifted, st.sampled_from(anchors), st.integers(-200, 40_000),
                     st.integers(1, 120_000))
    cis = st.builds(shifted, st.sampled_from(genes), st.integers(-1_000_000, 1_000_000),
                    st.integers(1, 400_000))
    anywhere = st.sampled_from(CONTIGS).flatmap(lambda contig: st.tuples(
        st.just(contig), st.integers(0, CONTIG_LENGTHS[contig] - 1),
        st.integers(1, 30_000_000)).map(lambda t: (t[0], t[1], t[1] + t[2])))
    return st.one_of(near, near, cis, anywhere)


def slice_records(tmp: Path, data: bytes, data_format: str, region: tuple[str, int, int]
                  ) -> tuple[list[str], list[str]]:
    """All records of the slice, and those pysam finds in the region once it is indexed."""
    path = tmp / f"slice{SUFFIXES[data_format]}"
    path.write_bytes(data)
    everything = records(path, data_format)
    if data_format == "VCF":
        pysam.tabix_index(str(path), preset="vcf", force=True, keep_original=True)
        index = Path(f"{path}.tbi")
    else:
        pysam.index(str(path))
        index = Path(f"{path}.{'crai' if data_format == 'CRAM' else 'bai'}")
    return everything, overlapping(path, data_format, *region, index=index)


def ticket(client: FlaskClient, headers: dict[str, str], data_file: DataFile,
           region: tuple[str, int, int]) -> bytes:
    endpoint = "variants" if data_file.data_format == "VCF" else "reads"
    contig, start, end = region
    answer = client.get(f"{HTSGET}/{endpoint}/{data_file.id}?referenceName={contig}"
                        f"&start={start}&end={end}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return assemble(answer.get_json(), through_app(client))


@pytest.fixture
def granted(demo: DemoInstance) -> dict[str, str]:
    grant_access(demo)
    return issue_token(demo, "researcher")


@pytest.mark.parametrize("which", ["VCF", "BAM Liver", "BAM Lung", "BAM Whole_Blood",
                                   "CRAM Liver"])
def test_random_regions_give_exactly_the_records_of_a_direct_query(
    demo: DemoInstance, granted: dict[str, str], tmp_path: Path, which: str
) -> None:
    vcf, bams = vcf_and_bams(demo)
    data_file = vcf if which == "VCF" else next(
        b for b in [*bams, *crams(demo)]
        if b.data_format == which.split()[0] and which.split()[1] in b.name)
    assert data_file.data_format and data_file.index_key
    whole = stored_path(demo, data_file.storage_key)
    index = stored_path(demo, data_file.index_key)
    every_record = records(whole, data_file.data_format)
    client = demo.app.test_client()
    seen = {"regions": 0, "with_records": 0, "extra": 0, "found": 0}

    anchors = sorted({(line.split("\t")[0 if data_file.data_format == "VCF" else 2],
                       int(line.split("\t")[1 if data_file.data_format == "VCF" else 3]) - 1)
                      for line in every_record if line.split("\t")[2] != "*"})

    @BUDGET
    @given(region=regions(anchors))
    def check(region: tuple[str, int, int]) -> None:
        assert data_file.data_format
        direct = overlapping(whole, data_file.data_format, *region, index=index)
        data = ticket(client, granted, data_file, region)
        everything, in_region = slice_records(tmp_path, data, data_file.data_format, region)
        assert in_region == direct
        # The rest is records of the file in file order, never anything else or twice; not
        # always a run of them: chunks of the index's bins (or CRAM containers) may skip
        # records between them that lie outside the region.
        places = [every_record.index(line) for line in everything]
        assert places == sorted(set(places))
        seen["regions"] += 1
        seen["with_records"] += bool(direct)
        seen["found"] += len(direct)
        seen["extra"] += len(everything) - len(direct)

    check()
    assert seen["with_records"] >= 5, seen  # the budget did reach regions holding records
    # The superset is the index's granularity (16 kb windows) or a few whole containers of
    # READS_PER_CONTAINER reads, not the file.
    per_region = 200 if data_file.data_format != "CRAM" else 3 * READS_PER_CONTAINER
    assert seen["extra"] <= max(10 * seen["found"], per_region * seen["regions"]), seen
