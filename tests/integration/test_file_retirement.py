"""Retiring a file (DELETE /api/v1/files/{id}): it stays in the catalogue's history and
the audit trail, its stored object stays, and from then on signed URLs, DRS access and
htsget tickets answer 410 Gone, even for a holder of a live grant; a description can still
be changed."""

from __future__ import annotations

import pytest

from tests.agreements import accept_as
from tests.conftest import DemoInstance
from tests.htsget_support import vcf_and_bams
from tests.integration.audit_support import fetch, grant_access, issue_url
from tests.integration.catalogue_admin_support import Catalogue


@pytest.fixture
def catalogue(demo: DemoInstance) -> Catalogue:
    return Catalogue(demo)


def test_a_retired_file_is_gone_for_urls_drs_and_htsget(
    demo: DemoInstance, catalogue: Catalogue
) -> None:
    dataset_id = grant_access(demo)
    accept_as(demo, "researcher", dataset_id)
    vcf, _ = vcf_and_bams(demo)
    researcher = catalogue.headers["researcher"]
    issued_before = issue_url(catalogue.client, researcher, vcf.id)
    assert fetch(catalogue.client, issued_before) == 200

    assert catalogue.call("DELETE", f"/files/{vcf.id}").status_code == 204
    url = catalogue.client.get(f"/api/v1/files/{vcf.id}/url", headers=researcher)
    assert url.status_code == 410, url.get_json()
    assert url.get_json()["error"]["code"] == "file_retired"
    assert fetch(catalogue.client, issued_before) == 410
    drs = catalogue.client.get(f"/ga4gh/drs/v1/objects/{vcf.id}", headers=researcher)
    assert drs.status_code == 410
    assert drs.get_json()["status_code"] == 410
    access = catalogue.client.get(
        f"/ga4gh/drs/v1/objects/{vcf.id}/access/signed-url", headers=researcher
    )
    assert access.status_code == 410
    ticket = catalogue.client.get(f"/ga4gh/htsget/v1/variants/{vcf.id}", headers=researcher)
    assert ticket.status_code == 410

    storage = demo.app.extensions["custodian.storage"]
    assert storage.size_of(vcf.storage_key) == vcf.size  # the object is left alone
    shown = catalogue.call("GET", f"/datasets/{dataset_id}", who="researcher").get_json()
    assert vcf.id not in [f["id"] for f in shown["files"]]
    [retired] = shown["retired_files"]
    assert (retired["id"], retired["sha256"]) == (vcf.id, vcf.sha256)
    assert retired["retired_at"] is not None
    [event] = catalogue.events("admin:file_retire")
    assert event.target_id == str(vcf.id)
    assert event.details == {"dataset_id": dataset_id, "key": vcf.storage_key, "sha256": vcf.sha256}
    refusals = [e for e in catalogue.events("url:refuse") if e.details.get("reason") == "retired"]
    assert len(refusals) >= 4 and {e.target_id for e in refusals} == {str(vcf.id)}


def test_drs_service_info_counts_only_live_files(demo: DemoInstance, catalogue: Catalogue) -> None:
    vcf, _ = vcf_and_bams(demo)

    def counted() -> tuple[int, int]:
        drs = catalogue.client.get("/ga4gh/drs/v1/service-info").get_json()["drs"]
        return drs["objectCount"], drs["totalObjectSize"]

    count, size = counted()
    catalogue.call("DELETE", f"/files/{vcf.id}")
    assert counted() == (count - 1, size - vcf.size)


def test_retiring_twice_is_a_409_and_missing_files_a_404(
    demo: DemoInstance, catalogue: Catalogue
) -> None:
    vcf, _ = vcf_and_bams(demo)
    assert catalogue.call("DELETE", f"/files/{vcf.id}").status_code == 204
    again = catalogue.call("DELETE", f"/files/{vcf.id}")
    assert again.status_code == 409
    assert "retired_at" in again.get_json()["error"]["details"]
    assert catalogue.call("DELETE", "/files/999999").status_code == 404
    assert len(catalogue.events("admin:file_retire")) == 1


def test_only_admins_retire_or_describe_files(demo: DemoInstance, catalogue: Catalogue) -> None:
    vcf, _ = vcf_and_bams(demo)
    assert catalogue.call("DELETE", f"/files/{vcf.id}", who="researcher").status_code == 403
    assert (
        catalogue.call(
            "PATCH", f"/files/{vcf.id}", {"description": "x"}, who="researcher"
        ).status_code
        == 403
    )
    assert catalogue.events("admin:file_retire") == []
    assert catalogue.events("admin:refused")[-1].details == {"what": "file_update"}


def test_describing_a_file_is_audited_and_a_bad_body_changes_nothing(
    demo: DemoInstance, catalogue: Catalogue
) -> None:
    vcf, _ = vcf_and_bams(demo)
    changed = catalogue.call("PATCH", f"/files/{vcf.id}", {"description": "Chromosome 21"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["description"] == "Chromosome 21"
    [event] = catalogue.events("admin:file_update")
    assert event.details["changes"]["description"]["to"] == "Chromosome 21"
    for bad in ({}, {"description": 5}, {"name": "renamed.vcf.gz"}):
        answer = catalogue.call("PATCH", f"/files/{vcf.id}", bad)
        assert answer.status_code == 400, (bad, answer.get_json())
    assert len(catalogue.events("admin:file_update")) == 1
