"""Admins register objects already in storage through the API, as the manifest import does:
what the body states is checked against the store, an index must belong to its file, and
any problem is a 400 naming the field with nothing registered; a prefix is registered whole
after a dry run that lists the plan."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from datasets.catalogue.models import DataFile
from datasets.storage import Storage
from tests.conftest import DemoInstance
from tests.integration.audit_support import controlled_files
from tests.integration.catalogue_admin_support import Catalogue
from tests.integration.test_manifest_indexes import write_vcf

CLINICAL = b"SUBJID\tAGE\nGTEX-X\t60-69\n"


@pytest.fixture
def catalogue(demo: DemoInstance) -> Catalogue:
    return Catalogue(demo)


@pytest.fixture
def storage(demo: DemoInstance, tmp_path: Path) -> Storage:
    """The demo's store with a clinical table and two indexed VCFs under uploads/."""
    store: Storage = demo.app.extensions["custodian.storage"]
    (tmp_path / "clinical.tsv").write_bytes(CLINICAL)
    store.put_file("uploads/clinical.tsv", tmp_path / "clinical.tsv")
    for name, seed in (("a", 1), ("b", 2)):
        vcf = write_vcf(tmp_path, f"{name}.vcf.gz", seed)
        store.put_file(f"uploads/{name}.vcf.gz", vcf)
        store.put_file(f"uploads/{name}.vcf.gz.tbi", Path(f"{vcf}.tbi"))
    return store


def stated(content: bytes, at: str, **changes: Any) -> dict[str, Any]:
    return {
        "key": at,
        "kind": "clinical",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "md5": hashlib.md5(content, usedforsecurity=False).hexdigest(),
        **changes,
    }


def stored_bytes(storage: Storage, key: str) -> bytes:
    return b"".join(storage.read_chunks(key))


def test_registering_a_stored_object_checks_it_and_audits_it(
    demo: DemoInstance, catalogue: Catalogue, storage: Storage
) -> None:
    dataset_id, _ = controlled_files(demo)
    made = catalogue.call(
        "POST",
        f"/datasets/{dataset_id}/files",
        stated(CLINICAL, "uploads/clinical.tsv", description="Ages"),
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["name"], body["tier"], body["size"]) == (
        "clinical.tsv",
        "controlled",
        len(CLINICAL),
    )
    assert body["index"] is None
    [event] = [e for e in catalogue.events("admin:file_register") if e.target_id == str(body["id"])]
    assert event.details["key"] == "uploads/clinical.tsv"
    listed = catalogue.call("GET", f"/datasets/{dataset_id}").get_json()["files"]
    assert body["id"] in [f["id"] for f in listed]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"size": len(CLINICAL) + 1}, "size", "in the request but"),
        ({"sha256": "0" * 64}, "sha256", "in the request but"),
        ({"md5": "0" * 32}, "md5", "in the request but"),
        ({"key": "uploads/nothing-here.tsv"}, "key", "no object is stored"),
        ({"key": "uploads/../clinical.tsv"}, "key", "'..'"),
        ({"tier": "open"}, "tier", "controlled"),
        ({"sha256": "ABC"}, "sha256", "hexadecimal"),
        ({"index_key": "uploads/clinical.tsv.tbi"}, "index_key", "no object is stored"),
    ],
)
def test_a_mismatch_is_a_400_naming_the_field_and_registers_nothing(
    demo: DemoInstance,
    catalogue: Catalogue,
    storage: Storage,
    changes: dict[str, Any],
    field: str,
    says: str,
) -> None:
    dataset_id, _ = controlled_files(demo)
    files = catalogue.count(DataFile)
    answer = catalogue.call(
        "POST", f"/datasets/{dataset_id}/files", stated(CLINICAL, "uploads/clinical.tsv", **changes)
    )
    assert answer.status_code == 400, answer.get_json()
    details = answer.get_json()["error"]["details"]
    assert list(details) == [field]
    assert says in str(details[field])
    assert catalogue.count(DataFile) == files


def test_a_key_already_registered_is_refused(
    demo: DemoInstance, catalogue: Catalogue, storage: Storage
) -> None:
    dataset_id, _ = controlled_files(demo)
    body = stated(CLINICAL, "uploads/clinical.tsv")
    assert catalogue.call("POST", f"/datasets/{dataset_id}/files", body).status_code == 201
    again = catalogue.call("POST", f"/datasets/{dataset_id}/files", body)
    assert again.status_code == 400
    assert "already registered" in str(again.get_json()["error"]["details"]["key"])


def test_an_index_is_registered_once_it_belongs_to_the_file(
    demo: DemoInstance, catalogue: Catalogue, storage: Storage
) -> None:
    dataset_id, _ = controlled_files(demo)
    vcf, tbi = (
        stored_bytes(storage, "uploads/a.vcf.gz"),
        stored_bytes(storage, "uploads/a.vcf.gz.tbi"),
    )
    foreign = catalogue.call(
        "POST",
        f"/datasets/{dataset_id}/files",
        stated(vcf, "uploads/a.vcf.gz", kind="genotype", index_key="uploads/b.vcf.gz.tbi"),
    )
    assert foreign.status_code == 400, foreign.get_json()
    assert "does not belong" in str(foreign.get_json()["error"]["details"]["index_key"])
    wrong_sum = catalogue.call(
        "POST",
        f"/datasets/{dataset_id}/files",
        stated(
            vcf,
            "uploads/a.vcf.gz",
            kind="genotype",
            index_key="uploads/a.vcf.gz.tbi",
            index_sha256="0" * 64,
        ),
    )
    assert list(wrong_sum.get_json()["error"]["details"]) == ["index_sha256"]
    made = catalogue.call(
        "POST",
        f"/datasets/{dataset_id}/files",
        stated(
            vcf,
            "uploads/a.vcf.gz",
            kind="genotype",
            index_key="uploads/a.vcf.gz.tbi",
            index_sha256=hashlib.sha256(tbi).hexdigest(),
        ),
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["data_format"] == "VCF"
    assert made.get_json()["index"]["format"] == "tbi"


def test_a_prefix_dry_run_lists_the_plan_and_writes_nothing(
    demo: DemoInstance, catalogue: Catalogue, storage: Storage
) -> None:
    dataset_id, _ = controlled_files(demo)
    files, registered = catalogue.count(DataFile), len(catalogue.events("admin:file_register"))
    refused = catalogue.call(
        "POST", f"/datasets/{dataset_id}/files/prefix", {"prefix": "uploads/", "dry_run": True}
    )
    assert refused.status_code == 400, refused.get_json()
    assert list(refused.get_json()["error"]["details"]["objects"]) == ["uploads/clinical.tsv"]
    planned = catalogue.call(
        "POST", f"/datasets/{dataset_id}/files/prefix", {"prefix": "uploads/a", "dry_run": True}
    )
    assert planned.status_code == 200, planned.get_json()
    body = planned.get_json()
    assert body["dry_run"] is True and body["skipped"] == []
    assert [(f["key"], f["kind"], f["index_key"], f["sha256"], f["id"]) for f in body["files"]] == [
        ("uploads/a.vcf.gz", "genotype", "uploads/a.vcf.gz.tbi", None, None)
    ]
    assert (catalogue.count(DataFile), len(catalogue.events("admin:file_register"))) == (
        files,
        registered,
    )


def test_a_prefix_registers_every_new_object_and_skips_the_known(
    demo: DemoInstance, catalogue: Catalogue, storage: Storage
) -> None:
    dataset_id, _ = controlled_files(demo)
    first = catalogue.call(
        "POST", f"/datasets/{dataset_id}/files", stated(CLINICAL, "uploads/clinical.tsv")
    )
    assert first.status_code == 201
    done = catalogue.call(
        "POST", f"/datasets/{dataset_id}/files/prefix", {"prefix": "uploads/", "kind": "genotype"}
    )
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert [f["key"] for f in body["files"]] == ["uploads/a.vcf.gz", "uploads/b.vcf.gz"]
    assert all(f["id"] and f["index_key"] == f["key"] + ".tbi" for f in body["files"])
    vcf = stored_bytes(storage, "uploads/b.vcf.gz")
    assert body["files"][1]["sha256"] == hashlib.sha256(vcf).hexdigest()
    assert body["skipped"] == [{"key": "uploads/clinical.tsv", "reason": "already registered"}]
    again = catalogue.call(
        "POST", f"/datasets/{dataset_id}/files/prefix", {"prefix": "uploads/", "kind": "genotype"}
    ).get_json()
    assert again["files"] == [] and len(again["skipped"]) == 5  # 3 files and their 2 indexes


def test_only_admins_register_files(
    demo: DemoInstance, catalogue: Catalogue, storage: Storage
) -> None:
    dataset_id, _ = controlled_files(demo)
    refused = catalogue.call(
        "POST",
        f"/datasets/{dataset_id}/files",
        stated(CLINICAL, "uploads/clinical.tsv"),
        who="researcher",
    )
    assert refused.status_code == 403
    assert catalogue.events("admin:refused")[-1].details == {"what": "file_register"}
