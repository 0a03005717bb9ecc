"""htsget beyond our own test client: the reference htsget client (PyPI ``htsget``) against
the running service, and the S3 backend, whose presigned URLs with Range headers must give
the very bytes the local backend gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import htsget
import pytest
import requests
from flask.testing import FlaskClient

from datasets.catalogue.models import DataFile
from datasets.demo.set_up import set_up_demo
from tests.conftest import DemoInstance, issue_token
from tests.htsget_support import (
    HTSGET,
    SUFFIXES,
    assemble,
    crams,
    indexed_files,
    overlapping,
    records,
    stored_path,
    through_app,
    vcf_and_bams,
)
from tests.integration.audit_support import grant_access as grant_through_use_cases
from tests.integration.test_s3_downloads import controlled_genotype, s3_instance
from tests.integration.test_s3_downloads import grant_access as grant_through_api
from tests.s3rver import S3Server

REGIONS = [("chr7", 117_000_000, 117_900_000), ("chr17", 7_600_000, 7_700_000),
           ("chr4", 73_400_000, 73_420_000), ("chr19", 0, 58_617_616)]


def endpoint_of(data_file: DataFile) -> str:
    return "variants" if data_file.data_format == "VCF" else "reads"


@pytest.mark.parametrize("kind", ["VCF", "BAM", "CRAM"])
def test_the_reference_htsget_client_gets_a_valid_slice(
    live: DemoInstance, tmp_path: Path, kind: str
) -> None:
    grant_through_use_cases(live)
    token = issue_token(live, "researcher")["Authorization"].removeprefix("Bearer ")
    vcf, bams = vcf_and_bams(live)
    data_file = {"VCF": vcf, "BAM": bams[1], "CRAM": crams(live)[0]}[kind]
    assert data_file.data_format and data_file.index_key
    whole = stored_path(live, data_file.storage_key)
    index = stored_path(live, data_file.index_key)
    for contig, start, end in REGIONS:
        out = tmp_path / f"slice{SUFFIXES[kind]}"
        with out.open("wb") as handle:
            htsget.get(f"{live.base_url}{HTSGET}/{endpoint_of(data_file)}/{data_file.id}",
                       handle, reference_name=contig, start=start, end=end,
                       bearer_token=token, max_retries=0, timeout=30)
        got = records(out, kind)
        direct = overlapping(whole, kind, contig, start, end, index)
        assert set(direct) <= set(got), (contig, start, end)
        assert all(line in set(records(whole, kind)) for line in got)


def test_the_reference_client_is_refused_without_a_grant(live: DemoInstance,
                                                         tmp_path: Path) -> None:
    vcf, _ = vcf_and_bams(live)
    token = issue_token(live, "researcher")["Authorization"].removeprefix("Bearer ")
    with (tmp_path / "x").open("wb") as handle, pytest.raises(htsget.exceptions.RetryableIOError):
        htsget.get(f"{live.base_url}{HTSGET}/variants/{vcf.id}", handle, bearer_token=token,
                   max_retries=0, timeout=30)  # it retries 403s: it says so, and gives up


@pytest.fixture(scope="module")
def s3_demo(tmp_path_factory: pytest.TempPathFactory,
            s3_server: S3Server) -> Iterator[DemoInstance]:
    instance = tmp_path_factory.mktemp("s3-htsget")
    demo = s3_instance(instance, f"sqlite:///{instance / 'custodian.db'}", s3_server)
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        set_up_demo(session, issuer=demo.settings.dev_idp_issuer,
                    storage=demo.app.extensions["custodian.storage"], now=demo.clock.now())
    client = demo.app.test_client()
    dataset_id, _ = controlled_genotype(client)
    grant_through_api(client, issue_token(demo, "researcher"), issue_token(demo, "dac-chair"),
                      dataset_id, issue_token(demo, "signing-official"))
    yield demo
    demo.app.extensions["custodian.engine"].dispose()


def over_http(url: str, headers: dict[str, str]) -> bytes:
    answer = requests.get(url, headers=headers, timeout=30)
    assert answer.status_code == (206 if "Range" in headers else 200), answer.text[:300]
    return answer.content


def test_the_s3_backend_gives_the_same_bytes_as_the_local_one(
    s3_demo: DemoInstance, s3_server: S3Server, demo: DemoInstance
) -> None:
    grant_through_use_cases(demo)
    s3_client, local_client = s3_demo.app.test_client(), demo.app.test_client()
    s3_token, local_token = issue_token(s3_demo, "researcher"), issue_token(demo, "researcher")
    s3_files, local_files = indexed_files(s3_demo), indexed_files(demo)
    assert s3_files.keys() == local_files.keys() and len(s3_files) == 5
    for name, s3_file in s3_files.items():
        local_file = local_files[name]
        for contig, start, end in [*REGIONS, ("chr1", 0, 248_956_422)]:
            query = f"referenceName={contig}&start={start}&end={end}"
            s3_ticket = _ticket(s3_client, s3_token, s3_file, query)
            ranged = [u for u in s3_ticket["htsget"]["urls"] if not u["url"].startswith("data:")]
            assert all(u["url"].startswith(s3_server.endpoint_url) for u in ranged)
            local_ticket = _ticket(local_client, local_token, local_file, query)
            assert assemble(s3_ticket, over_http) == assemble(local_ticket,
                                                              through_app(local_client))
        whole = _ticket(s3_client, s3_token, s3_file, "")
        assert len(assemble(whole, over_http)) > 1000


def _ticket(client: FlaskClient, headers: dict[str, str], data_file: DataFile, query: str
            ) -> dict[str, Any]:
    answer = client.get(f"{HTSGET}/{endpoint_of(data_file)}/{data_file.id}?{query}",
                        headers=headers)
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body
