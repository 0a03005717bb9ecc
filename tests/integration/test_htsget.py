"""GA4GH htsget 1.3 under /ga4gh/htsget/v1: tickets, their classes, the spec's errors, the
same authorisation, audit, expiry and revocation as downloads, and CORS."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pysam
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from audit.log.models import AuditEvent
from datasets.catalogue.models import DataFile
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
from tests.integration.audit_support import controlled_files, grant_access
from tests.integration.test_drs import scoped

CHR7 = ("chr7", 0, 159_345_973)  # spans three BGZF blocks of the demo VCF
TICKET_TYPE = "application/vnd.ga4gh.htsget.v1.3.0+json; charset=utf-8"


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


@pytest.fixture
def researcher(demo: DemoInstance) -> dict[str, str]:
    grant_access(demo)
    return issue_token(demo, "researcher")


def url_for(data_file: DataFile) -> str:
    endpoint = "variants" if data_file.data_format == "VCF" else "reads"
    return f"{HTSGET}/{endpoint}/{data_file.id}"


def written(tmp_path: Path, data: bytes, data_format: str, name: str = "slice") -> Path:
    path = tmp_path / f"{name}{SUFFIXES[data_format]}"
    path.write_bytes(data)
    return path


def assert_htsget_error(answer: Any, status: int, error: str) -> str:
    assert answer.status_code == status, answer.get_data(as_text=True)
    body = answer.get_json()
    assert set(body) == {"htsget"} and set(body["htsget"]) == {"error", "message"}, body
    assert body["htsget"]["error"] == error, body
    message: str = body["htsget"]["message"]
    return message


def last_event(demo: DemoInstance, action: str) -> AuditEvent:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found: AuditEvent = session.scalars(select(AuditEvent).where(
            AuditEvent.action == action).order_by(AuditEvent.seq.desc())).first()
        return found


@pytest.mark.parametrize(("endpoint", "formats"), [("reads", ["BAM", "CRAM"]),
                                                   ("variants", ["VCF"])])
def test_service_info_of_each_endpoint(client: FlaskClient, endpoint: str,
                                       formats: list[str]) -> None:
    answer = client.get(f"{HTSGET}/{endpoint}/service-info")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["type"] == {"group": "org.ga4gh", "artifact": "htsget", "version": "1.3.0"}
    assert body["htsget"] == {"datatype": endpoint, "formats": formats,
                              "fieldsParameterEffective": False,
                              "tagsParametersEffective": False}
    assert {"id", "name", "organization", "version"} <= set(body)


def test_a_region_ticket_is_header_body_and_eof_and_holds_the_regions_records(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], tmp_path: Path
) -> None:
    vcf, _ = vcf_and_bams(demo)
    contig, start, end = CHR7
    answer = client.get(f"{url_for(vcf)}?referenceName={contig}&start={start}&end={end}",
                        headers=researcher)
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Content-Type"] == TICKET_TYPE
    ticket = answer.get_json()["htsget"]
    assert ticket["format"] == "VCF"
    classes = [entry["class"] for entry in ticket["urls"]]
    assert classes[0] == "header" and set(classes[1:]) == {"body"}
    assert ticket["urls"][0]["url"].startswith("data:application/vnd.ga4gh.vcf;base64,")
    ranged = [entry for entry in ticket["urls"] if not entry["url"].startswith("data:")]
    assert ranged and all(entry["headers"]["Range"].startswith("bytes=") for entry in ranged)
    assert all("signature=" in entry["url"] for entry in ranged)
    path = written(tmp_path, assemble(answer.get_json(), through_app(client)), "VCF")
    got = records(path, "VCF")
    whole, index = stored_path(demo, vcf.storage_key), stored_path(demo, vcf.index_key or "")
    assert set(overlapping(whole, "VCF", contig, start, end, index)) <= set(got)
    assert got and all(line.startswith("chr7\t") for line in got)


def test_the_whole_file_when_no_region_is_named(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], tmp_path: Path
) -> None:
    for data_file in indexed_files(demo).values():
        assert data_file.data_format
        answer = client.get(url_for(data_file), headers=researcher)
        assert answer.status_code == 200, answer.get_json()
        path = written(tmp_path, assemble(answer.get_json(), through_app(client)),
                       data_file.data_format)
        whole = stored_path(demo, data_file.storage_key)
        assert records(path, data_file.data_format) == records(whole, data_file.data_format)


def test_header_only_is_a_valid_file_without_records(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], tmp_path: Path
) -> None:
    vcf, bams = vcf_and_bams(demo)
    for data_file in (vcf, bams[0]):
        assert data_file.data_format
        answer = client.get(f"{url_for(data_file)}?class=header", headers=researcher)
        assert answer.status_code == 200, answer.get_json()
        urls = answer.get_json()["htsget"]["urls"]
        assert {entry["class"] for entry in urls} == {"header"}
        assert all(entry["url"].startswith("data:") for entry in urls)  # no ranges at all
        path = written(tmp_path, assemble(answer.get_json(), through_app(client)),
                       data_file.data_format)
        assert records(path, data_file.data_format) == []
        if data_file.data_format == "VCF":
            with pysam.VariantFile(str(path)) as opened:
                assert list(opened.header.contigs) == list(
                    pysam.VariantFile(str(stored_path(demo, vcf.storage_key))).header.contigs)
        else:
            with pysam.AlignmentFile(str(path)) as opened:
                assert opened.references[0] == "chr1" and opened.header.to_dict()["RG"]


@pytest.mark.parametrize("query", ["referenceName=chr7&start=5&end=5",
                                   "referenceName=chr7&start=1000&end=2000",
                                   "referenceName=chr1&start=248956000"])
def test_an_empty_region_gives_a_valid_empty_file(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], tmp_path: Path,
    query: str
) -> None:
    for data_file in indexed_files(demo).values():
        assert data_file.data_format
        answer = client.get(f"{url_for(data_file)}?{query}", headers=researcher)
        assert answer.status_code == 200, answer.get_json()
        urls = answer.get_json()["htsget"]["urls"]
        assert [entry["class"] for entry in urls] == ["header", "body"]  # header, EOF
        path = written(tmp_path, assemble(answer.get_json(), through_app(client)),
                       data_file.data_format)
        assert records(path, data_file.data_format) == []


def test_post_with_several_regions_returns_each_record_once_in_file_order(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], tmp_path: Path
) -> None:
    _, bams = vcf_and_bams(demo)
    bam = bams[0]
    whole, index = stored_path(demo, bam.storage_key), stored_path(demo, bam.index_key or "")
    wanted = [("chr17", 7_680_000, 7_700_000), ("chr4", 73_400_000, 73_430_000),
              ("chr17", 7_690_000, 7_710_000)]  # overlaps the first
    answer = client.post(url_for(bam), headers=researcher, json={"format": "BAM", "regions": [
        {"referenceName": c, "start": s, "end": e} for c, s, e in wanted]})
    assert answer.status_code == 200, answer.get_json()
    path = written(tmp_path, assemble(answer.get_json(), through_app(client)), "BAM")
    got = records(path, "BAM")
    assert len(got) == len(set(got))
    everything = records(whole, "BAM")
    assert sorted(got, key=everything.index) == got
    expected = {line for region in wanted for line in overlapping(whole, "BAM", *region,
                                                                    index=index)}
    assert expected and expected <= set(got)


def test_unplaced_unmapped_reads_are_referenceName_star(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], tmp_path: Path
) -> None:
    _, bams = vcf_and_bams(demo)
    answer = client.get(f"{url_for(bams[0])}?referenceName=*", headers=researcher)
    assert answer.status_code == 200, answer.get_json()
    path = written(tmp_path, assemble(answer.get_json(), through_app(client)), "BAM")
    with pysam.AlignmentFile(str(path), check_sq=False) as reads:
        got = list(reads.fetch(until_eof=True))
    assert got and all(read.is_unmapped and read.reference_id == -1 for read in got)


@pytest.mark.parametrize(("endpoint", "query", "status", "error"), [
    ("variants", "format=BCF", 400, "UnsupportedFormat"),
    ("variants", "format=SAM", 400, "UnsupportedFormat"),
    ("reads", "format=SAM", 400, "UnsupportedFormat"),
    ("reads", "format=CRAM", 400, "UnsupportedFormat"),  # the file is a BAM: never transcoded
    ("variants", "class=body", 400, "InvalidInput"),
    ("variants", "class=header&referenceName=chr7", 400, "InvalidInput"),
    ("variants", "start=10", 400, "InvalidInput"),
    ("variants", "referenceName=chr7&start=-1", 400, "InvalidInput"),
    ("variants", "referenceName=chr7&start=1e3", 400, "InvalidInput"),
    ("variants", "referenceName=chr7&end=4294967296", 400, "InvalidInput"),
    ("variants", "referenceName=chr7&start=20&end=10", 400, "InvalidRange"),
    ("variants", "referenceName=chr7&start=999999999", 400, "InvalidRange"),
    ("variants", "referenceName=chr7&referenceName=chr8", 400, "InvalidInput"),
    ("variants", "referenceName=*", 400, "InvalidInput"),
    ("reads", "referenceName=*&start=1", 400, "InvalidInput"),
    ("reads", "fields=QNAME,NOPE", 400, "InvalidInput"),
    ("reads", "tags=NM,RG&notags=RG", 400, "InvalidInput"),
    ("variants", "region=chr7:1-2", 400, "InvalidInput"),
    ("variants", "referenceName=chrUn", 404, "NotFound"),
])
def test_bad_input_gets_the_specs_error_type(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], endpoint: str,
    query: str, status: int, error: str
) -> None:
    vcf, bams = vcf_and_bams(demo)
    data_file = vcf if endpoint == "variants" else bams[0]
    assert_htsget_error(client.get(f"{HTSGET}/{endpoint}/{data_file.id}?{query}",
                                   headers=researcher), status, error)
    assert last_event(demo, "url:issue") is None  # nothing was issued


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"regions": []}, 400, "InvalidInput"),
    ({"regions": [{"start": 1}]}, 400, "InvalidInput"),
    ({"regions": [{"referenceName": "chr7", "start": 10, "end": 10}]}, 400, "InvalidRange"),
    ({"regions": [{"referenceName": "chr7", "start": "10"}]}, 400, "InvalidInput"),
    ({"regions": [{"referenceName": "chr7", "start": True}]}, 400, "InvalidInput"),
    ({"regions": [{"referenceName": "chr7"}] * 257}, 413, "PayloadTooLarge"),
    ({"class": "header", "regions": [{"referenceName": "chr7"}]}, 400, "InvalidInput"),
    ({"format": 3}, 400, "InvalidInput"),
    ({"regions": "chr7"}, 400, "InvalidInput"),
    ({"referenceName": "chr7"}, 400, "InvalidInput"),
    ([1, 2], 400, "InvalidInput"),
])
def test_bad_post_bodies_get_the_specs_error_type(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str], body: Any,
    status: int, error: str
) -> None:
    vcf, _ = vcf_and_bams(demo)
    assert_htsget_error(client.post(url_for(vcf), headers=researcher, json=body), status,
                        error)


def test_post_refuses_query_parameters_and_non_json(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str]
) -> None:
    vcf, _ = vcf_and_bams(demo)
    assert_htsget_error(client.post(f"{url_for(vcf)}?format=VCF", headers=researcher, json={}),
                        400, "InvalidInput")
    assert_htsget_error(client.post(url_for(vcf), headers=researcher, data=b"{nope",
                                    content_type="application/json"), 400, "InvalidInput")


def test_ids_that_name_no_indexed_file_of_the_endpoint_are_404(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str]
) -> None:
    vcf, bams = vcf_and_bams(demo)
    _, files = controlled_files(demo)
    plain = next(f for f in files if f not in {vcf.id, *(b.id for b in bams)})
    for path in (f"variants/{bams[0].id}", f"reads/{vcf.id}", f"variants/{plain}",
                 "variants/424242", "reads/abc", "variants/" + "9" * 30, "reads/-1"):
        assert_htsget_error(client.get(f"{HTSGET}/{path}", headers=researcher), 404,
                            "NotFound")


def test_no_grant_no_ticket_and_the_refusal_is_audited(
    demo: DemoInstance, client: FlaskClient
) -> None:
    vcf, _ = vcf_and_bams(demo)
    message = assert_htsget_error(client.get(url_for(vcf), headers=issue_token(
        demo, "researcher2")), 403, "PermissionDenied")
    assert "grant" in message
    refusal = last_event(demo, "url:refuse")
    assert refusal.target_id == str(vcf.id) and refusal.outcome == "denied"
    assert_htsget_error(client.get(url_for(vcf)), 401, "InvalidAuthentication")
    assert_htsget_error(client.get(url_for(vcf), headers={"Authorization": "Bearer cus_nope"}),
                        401, "InvalidAuthentication")


def test_a_token_needs_the_download_scope_and_the_agreement_must_be_accepted(
    demo: DemoInstance, client: FlaskClient
) -> None:
    grant_access(demo)
    vcf, _ = vcf_and_bams(demo)
    catalogue_only = scoped(demo, client, "researcher", "catalogue")
    message = assert_htsget_error(client.get(url_for(vcf), headers=catalogue_only), 403,
                                  "PermissionDenied")
    assert "'download'" in message
    download = scoped(demo, client, "researcher", "download")
    assert client.get(url_for(vcf), headers=download).status_code == 200
    published = client.post(f"/api/v1/datasets/{vcf.dataset_id}/agreements",
                            headers=issue_token(demo, "admin"),
                            json={"text": "Version 2 of the data-use agreement."})
    assert published.status_code == 201, published.get_json()
    message = assert_htsget_error(client.get(url_for(vcf), headers=download), 403,
                                  "PermissionDenied")
    assert "agreement_not_accepted" in message


def test_every_ticket_is_audited_with_its_regions_and_every_block_served_too(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str]
) -> None:
    vcf, _ = vcf_and_bams(demo)
    regions = [{"referenceName": "chr7", "start": 117_000_000, "end": 117_900_000},
               {"referenceName": "chr17"}]
    answer = client.post(url_for(vcf), headers=researcher, json={"regions": regions})
    assert answer.status_code == 200, answer.get_json()
    issued = last_event(demo, "url:issue")
    assert issued.target_id == str(vcf.id) and issued.actor_subject == "researcher"
    assert issued.actor_token_id is not None
    details = issued.details["htsget"]
    assert details["endpoint"] == "variants" and details["regions"] == regions
    assert details["blocks"] == len(answer.get_json()["htsget"]["urls"])
    assemble(answer.get_json(), through_app(client))
    served = last_event(demo, "file:serve")
    assert served.target_id == str(vcf.id) and served.details["range"].startswith("bytes=")
    assert served.actor_subject == "researcher"


def test_slice_urls_expire_like_download_urls_and_revocation_stops_the_next_ticket(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str]
) -> None:
    vcf, _ = vcf_and_bams(demo)
    ticket = client.get(f"{url_for(vcf)}?referenceName=chr17", headers=researcher).get_json()
    ranged = next(e for e in ticket["htsget"]["urls"] if not e["url"].startswith("data:"))
    demo.clock.advance(timedelta(seconds=demo.settings.signed_url_default_seconds + 1))
    parts = ranged["url"].split("/storage/", 1)[1]
    assert client.get("/storage/" + parts, headers=ranged["headers"]).status_code == 403
    [mine] = client.get("/api/v1/requests?scope=mine", headers=researcher).get_json()["requests"]
    revoked = client.post(f"/api/v1/requests/{mine['id']}/revoke", json={
        "reason": "Data-security incident."}, headers=issue_token(demo, "dac-chair"))
    assert revoked.status_code == 200, revoked.get_json()
    assert_htsget_error(client.get(url_for(vcf), headers=researcher), 403, "PermissionDenied")


def test_cors_echoes_the_origin_and_answers_preflights(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str]
) -> None:
    vcf, _ = vcf_and_bams(demo)
    origin = {"Origin": "https://igv.example"}
    answer = client.get(url_for(vcf), headers={**researcher, **origin})
    assert answer.headers["Access-Control-Allow-Origin"] == "https://igv.example"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    refused = client.get(url_for(vcf), headers=origin)  # errors carry it too
    assert refused.headers["Access-Control-Allow-Origin"] == "https://igv.example"
    preflight = client.open(url_for(vcf), method="OPTIONS", headers={
        **origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://igv.example"
    assert preflight.headers["Access-Control-Allow-Headers"] == "authorization"
    assert preflight.headers["Access-Control-Max-Age"] == str(30 * 24 * 3600)
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    refused = client.open(url_for(vcf), method="OPTIONS", headers={
        **origin, "Access-Control-Request-Method": "DELETE"})
    assert "Access-Control-Allow-Methods" not in refused.headers


def test_the_blocks_signed_urls_provide_cors_without_credentials(
    demo: DemoInstance, client: FlaskClient, researcher: dict[str, str]
) -> None:
    vcf, _ = vcf_and_bams(demo)
    ticket = client.get(f"{url_for(vcf)}?referenceName=chr7", headers=researcher).get_json()
    ranged = next(e for e in ticket["htsget"]["urls"] if not e["url"].startswith("data:"))
    path = "/storage/" + ranged["url"].split("/storage/", 1)[1]
    answer = client.get(path, headers={**ranged["headers"], "Origin": "https://igv.example"})
    assert answer.status_code == 206
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Range" in answer.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_the_catalogue_says_which_files_can_be_sliced(demo: DemoInstance,
                                                      client: FlaskClient) -> None:
    vcf, bams = vcf_and_bams(demo)
    listed = client.get(f"/api/v1/datasets/{vcf.dataset_id}").get_json()["files"]
    by_id = {f["id"]: f for f in listed}
    assert by_id[vcf.id]["data_format"] == "VCF"
    assert by_id[vcf.id]["index"] == {"format": "tbi", "size": vcf.index_size,
                                      "sha256": vcf.index_sha256, "md5": vcf.index_md5}
    assert {by_id[b.id]["index"]["format"] for b in bams} == {"bai"}
    [cram] = crams(demo)
    assert by_id[cram.id]["data_format"] == "CRAM" and by_id[cram.id]["index"]["format"] == "crai"
    plain = [f for f in listed if f["id"] not in {vcf.id, cram.id, *(b.id for b in bams)}]
    assert plain and all(f["index"] is None and f["data_format"] is None for f in plain)
