"""htsget for the demo's CRAM: served as stored, a container at a time (its codecs compress
a container as one), in the format it is stored in and in no other."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest
from flask.testing import FlaskClient

from datasets.genomics import cram
from tests.conftest import DemoInstance, issue_token
from tests.htsget_support import (
    HTSGET,
    assemble,
    block_bytes,
    crams,
    overlapping,
    records,
    stored_path,
    through_app,
    vcf_and_bams,
)
from tests.integration.audit_support import grant_access
from tests.integration.test_htsget import assert_htsget_error, last_event

ALB = ("chr4", 73_400_000, 73_430_000)


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


@pytest.fixture
def researcher(demo: DemoInstance) -> dict[str, str]:
    grant_access(demo)
    return issue_token(demo, "researcher")


def test_a_region_of_the_cram_is_its_head_whole_stored_containers_and_the_eof_container(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], tmp_path: Path
) -> None:
    [data_file] = crams(demo)
    whole = stored_path(demo, data_file.storage_key)
    stored = whole.read_bytes()
    contig, start, end = ALB
    answer = client.get(f"{HTSGET}/reads/{data_file.id}?referenceName={contig}&start={start}"
                        f"&end={end}", headers=researcher)
    assert answer.status_code == 200, answer.get_json()
    ticket = answer.get_json()
    assert ticket["htsget"]["format"] == "CRAM"
    urls = ticket["htsget"]["urls"]
    head, *body, eof = urls
    assert head["class"] == "header" and head["url"].startswith(
        "data:application/vnd.ga4gh.cram;base64,")
    get = through_app(client)
    assert stored.startswith(block_bytes(head, get))  # the stored head, byte for byte
    assert block_bytes(eof, get) == cram.EOF_CONTAINER and eof["class"] == "body"
    assert body and all(u["class"] == "body" and "Range" in u["headers"] for u in body)
    for entry in body:  # each range is whole containers: it starts with a container header
        first, _ = entry["headers"]["Range"].removeprefix("bytes=").split("-")
        cram.container_header(stored[int(first):int(first) + cram.CONTAINER_HEADER_READ],
                              int(first))
    path = tmp_path / "slice.cram"
    path.write_bytes(assemble(ticket, get))
    got = records(path, "CRAM")
    direct = overlapping(whole, "CRAM", *ALB, stored_path(demo, data_file.index_key or ""))
    assert direct and set(direct) <= set(got) and set(got) <= set(records(whole, "CRAM"))
    assert len(got) < len(records(whole, "CRAM")) / 4  # a slice, not the file
    details = last_event(demo, "url:issue").details["htsget"]
    assert details["format"] == "CRAM" and details["blocks"] == len(urls)


def test_header_only_of_the_cram_is_inline_and_holds_no_reads(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], tmp_path: Path
) -> None:
    [data_file] = crams(demo)
    answer = client.get(f"{HTSGET}/reads/{data_file.id}?class=header", headers=researcher)
    assert answer.status_code == 200, answer.get_json()
    urls = answer.get_json()["htsget"]["urls"]
    assert [u["class"] for u in urls] == ["header", "header"]
    assert all(u["url"].startswith("data:") for u in urls)
    path = tmp_path / "header.cram"
    path.write_bytes(assemble(answer.get_json(), through_app(client)))
    with pysam.AlignmentFile(str(path)) as opened:
        assert opened.references[0] == "chr1" and opened.header.to_dict()["RG"]
        assert list(opened.fetch(until_eof=True)) == []


def test_unplaced_reads_of_the_cram_are_referenceName_star(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], tmp_path: Path
) -> None:
    [data_file] = crams(demo)
    answer = client.get(f"{HTSGET}/reads/{data_file.id}?referenceName=*", headers=researcher)
    assert answer.status_code == 200, answer.get_json()
    path = tmp_path / "unplaced.cram"
    path.write_bytes(assemble(answer.get_json(), through_app(client)))
    with pysam.AlignmentFile(str(path)) as reads:
        got = list(reads.fetch(until_eof=True))
    assert got and all(read.is_unmapped for read in got)


@pytest.mark.parametrize(("asked", "stored"), [("BAM", "CRAM"), ("CRAM", "BAM"),
                                               ("bam", "CRAM")])
def test_a_format_other_than_the_stored_one_is_unsupported_and_nothing_is_issued(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], asked: str,
    stored: str
) -> None:
    data_file = crams(demo)[0] if stored == "CRAM" else vcf_and_bams(demo)[1][0]
    message = assert_htsget_error(client.get(f"{HTSGET}/reads/{data_file.id}?format={asked}",
                                             headers=researcher), 400, "UnsupportedFormat")
    assert f"stored as {stored}" in message
    assert last_event(demo, "url:issue") is None
    asked_as_stored = client.get(f"{HTSGET}/reads/{data_file.id}?format={stored.lower()}",
                                 headers=researcher)
    assert asked_as_stored.status_code == 200, asked_as_stored.get_json()


def test_the_cram_is_not_a_variants_object_and_needs_a_grant(
    demo: DemoInstance, client: FlaskClient
) -> None:
    [data_file] = crams(demo)
    assert_htsget_error(client.get(f"{HTSGET}/variants/{data_file.id}",
                                   headers=issue_token(demo, "researcher")), 404, "NotFound")
    assert_htsget_error(client.get(f"{HTSGET}/reads/{data_file.id}",
                                   headers=issue_token(demo, "researcher2")), 403,
                        "PermissionDenied")
    assert last_event(demo, "url:refuse").target_id == str(data_file.id)
