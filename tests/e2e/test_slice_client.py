"""``custodian-download slice`` against the running demo: an htsget ticket's blocks fetched
in parallel into a valid VCF or BAM, checked block by block."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pysam
import pytest
import requests

from datasets.client import main as client_main
from datasets.client import service, slices
from tests.e2e.test_download_client import Client, client, grant_with_agreement
from tests.htsget_support import crams, overlapping, records, stored_path, vcf_and_bams

__all__ = ["client"]  # the fixture, shared with the download client's tests


def test_a_region_of_the_vcf_in_samtools_notation(client: Client) -> None:
    grant_with_agreement(client)
    client.login("researcher")
    vcf, _ = vcf_and_bams(client.live)
    done = client.run("slice", str(vcf.id), "--region", "chr7:117,000,000-117670000",
                      "-o", "cftr.vcf.gz")
    assert done.returncode == 0, done.stderr
    out = client.downloads / "cftr.vcf.gz"
    assert done.stdout.startswith("cftr.vcf.gz\t") and "blocks" in done.stdout
    got = records(out, "VCF")
    whole = stored_path(client.live, vcf.storage_key)
    direct = overlapping(whole, "VCF", "chr7", 116_999_999, 117_670_000,
                         stored_path(client.live, vcf.index_key or ""))
    assert direct and set(direct) <= set(got)
    assert list(client.downloads.glob("*.part")) == []


def test_several_regions_of_a_bam_and_the_header_alone(client: Client) -> None:
    grant_with_agreement(client)
    client.login("researcher")
    _, bams = vcf_and_bams(client.live)
    done = client.run("slice", str(bams[0].id), "--region", "chr17", "--region",
                      "chr4:73400000-73430000", "-j", "2")
    assert done.returncode == 0, done.stderr
    out = client.downloads / f"slice-{bams[0].id}.bam"
    with pysam.AlignmentFile(str(out)) as reads:
        contigs = {read.reference_name for read in reads.fetch(until_eof=True)}
    assert contigs == {"chr4", "chr17"}
    header = client.run("slice", str(bams[0].id), "--header-only", "-o", "header.bam")
    assert header.returncode == 0, header.stderr
    assert records(client.downloads / "header.bam", "BAM") == []


def test_a_region_of_the_cram_is_written_as_cram(client: Client) -> None:
    grant_with_agreement(client)
    client.login("researcher")
    [cram] = crams(client.live)
    done = client.run("slice", str(cram.id), "--region", "chr4:73400000-73430000")
    assert done.returncode == 0, done.stderr
    out = client.downloads / f"slice-{cram.id}.cram"
    whole = stored_path(client.live, cram.storage_key)
    direct = overlapping(whole, "CRAM", "chr4", 73_399_999, 73_430_000,
                         stored_path(client.live, cram.index_key or ""))
    assert direct and set(direct) <= set(records(out, "CRAM"))


def test_urls_that_expire_before_their_block_get_a_fresh_ticket(
    client: Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    grant_with_agreement(client)
    client.login("researcher")
    vcf, _ = vcf_and_bams(client.live)
    made = service.new_session
    tickets: list[str] = []

    def session_whose_ticket_is_slow() -> requests.Session:
        session = made()

        def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            if "/ga4gh/htsget/" in response.url:
                tickets.append(response.url)
                if len(tickets) == 1:  # the first ticket's URLs are dead on arrival
                    client.live.clock.advance(timedelta(minutes=16))

        session.hooks["response"].append(hook)
        return session

    monkeypatch.setattr(service, "new_session", session_whose_ticket_is_slow)
    monkeypatch.setattr(slices, "new_session", made)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(client.home))
    target = client.downloads / "whole.vcf.gz"
    code = client_main.main(["slice", str(vcf.id), "-o", str(target)])
    assert code == 0, capsys.readouterr().err
    assert len(tickets) == 2
    assert records(target, "VCF") == records(stored_path(client.live, vcf.storage_key), "VCF")
    assert len(client.events("file:refuse")) >= 1


def test_one_line_errors_for_no_grant_a_file_that_cannot_be_sliced_and_bad_regions(
    client: Client,
) -> None:
    client.login("researcher2")
    vcf, _ = vcf_and_bams(client.live)
    refused = client.run("slice", str(vcf.id), "--region", "chr7")
    assert refused.returncode == 1 and "403" in refused.stderr and "grant" in refused.stderr
    plain = next(f for f in client.files("controlled") if f.index_key is None)
    not_indexed = client.run("slice", str(plain.id))
    assert not_indexed.returncode == 1 and "not an indexed VCF or BAM" in not_indexed.stderr
    for region in ("chr7:0-10", "chr7:20-10", "chr7:a-b", ""):
        assert client.run("slice", str(vcf.id), "--region", region).returncode == 2, region
    for run in (refused, not_indexed):
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert list(client.downloads.iterdir()) == []


def test_regions_are_read_as_samtools_writes_them() -> None:
    assert slices.parse_region("chr7:117480000-117670000") == {
        "referenceName": "chr7", "start": 117_479_999, "end": 117_670_000}
    assert slices.parse_region("chr7") == {"referenceName": "chr7"}
    assert slices.parse_region("chr7:5,000") == {"referenceName": "chr7", "start": 4999}
    assert slices.parse_region("chr7:5000-") == {"referenceName": "chr7", "start": 4999}
    with pytest.raises(slices.RegionError):
        slices.parse_region("chr7:0-5")


def test_a_block_shorter_than_its_range_fails_and_leaves_nothing(
    client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    grant_with_agreement(client)
    client.login("researcher")
    vcf, _ = vcf_and_bams(client.live)
    real = slices.blocks_of

    def one_byte_longer(ticket: dict[str, Any]) -> list[slices.Block]:
        found = real(ticket)
        return [b if b.data is not None else slices.Block(
            b.number, b.offset, b.size + 1, None, b.url, b.headers) for b in found]

    monkeypatch.setattr(slices, "blocks_of", one_byte_longer)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(client.home))
    target = tmp_path / "short.vcf.gz"
    assert client_main.main(["slice", str(vcf.id), "-o", str(target)]) == 1
    assert not target.exists() and not list(tmp_path.glob("*.part"))
