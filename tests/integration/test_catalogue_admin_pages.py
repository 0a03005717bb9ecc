"""The admins' catalogue pages drive the same use cases as the API: studies and datasets
made and changed from forms, objects registered by key or by prefix after a dry run, files
retired after a confirmation; a bad field is shown on the page and writes nothing."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from datasets.catalogue.models import DataFile, Dataset
from tests.conftest import DemoInstance
from tests.integration.audit_support import controlled_files
from tests.integration.catalogue_admin_support import Catalogue
from tests.integration.test_pages_and_health import signed_in_client

CLINICAL = b"SUBJID\tSEX\nGTEX-Y\t2\n"


@pytest.fixture
def admin(demo: DemoInstance) -> FlaskClient:
    return signed_in_client(demo, "admin")


def post(client: FlaskClient, path: str, **fields: Any) -> Any:
    return client.post(path, data={**fields, "csrf_token": "known-token"}, follow_redirects=True)


def test_admin_registers_a_study_and_a_dataset_from_the_forms(
    demo: DemoInstance, admin: FlaskClient
) -> None:
    page = post(admin, "/admin/studies", accession="phs000666", title="Heart study")
    assert page.status_code == 200 and "Study phs000666 registered" in page.text
    catalogue = Catalogue(demo)
    [study] = [
        s
        for s in catalogue.call("GET", "/studies").get_json()["studies"]
        if s["accession"] == "phs000666"
    ]
    committee = catalogue.committee()
    made = post(
        admin,
        "/admin/datasets",
        study_id=str(study["id"]),
        accession="phs000666.c1",
        name="DS-CVD",
        tier="controlled",
        committee_id=str(committee),
        duo_codes="DS, IRB",
        duo_disease_ids="MONDO:0004995",
        use_limitation_text="",
    )
    assert "Dataset phs000666.c1 registered" in made.text, made.text
    with demo.app.extensions["custodian.session_factory"]() as session:
        dataset = session.scalars(select(Dataset).where(Dataset.accession == "phs000666.c1")).one()
        assert dataset.duo_codes == ["DUO:0000007", "DUO:0000021"]
        assert dataset.committee_id == committee
    listed = admin.get("/admin/catalogue").text
    assert f'href="/admin/datasets/{dataset.id}"' in listed


def test_a_bad_field_is_shown_and_nothing_is_written(
    demo: DemoInstance, admin: FlaskClient
) -> None:
    dataset_id, _ = controlled_files(demo)
    page = post(admin, f"/admin/datasets/{dataset_id}", duo_codes="GRU WXYZ")
    assert "Not done" in page.text and "WXYZ" in page.text
    page = post(admin, f"/admin/datasets/{dataset_id}", duo_codes="DS")
    assert "Not done" in page.text and "duo_disease_ids" in page.text
    assert Catalogue(demo).events("admin:dataset_update") == []


def test_register_by_key_then_by_prefix_after_a_dry_run(
    demo: DemoInstance, admin: FlaskClient, tmp_path: Path
) -> None:
    dataset_id, _ = controlled_files(demo)
    storage = demo.app.extensions["custodian.storage"]
    for name in ("one.tsv", "two.tsv"):
        (tmp_path / name).write_bytes(CLINICAL + name.encode())
        storage.put_file(f"forms/{name}", tmp_path / name)
    content = CLINICAL + b"one.tsv"
    wrong = post(
        admin,
        f"/admin/datasets/{dataset_id}/files",
        key="forms/one.tsv",
        kind="clinical",
        size=str(len(content) + 1),
        sha256=hashlib.sha256(content).hexdigest(),
        md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
    )
    assert "Not done" in wrong.text and "in the request but" in wrong.text
    done = post(
        admin,
        f"/admin/datasets/{dataset_id}/files",
        key="forms/one.tsv",
        kind="clinical",
        size=str(len(content)),
        sha256=hashlib.sha256(content).hexdigest(),
        md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
    )
    assert "File one.tsv registered" in done.text, done.text
    dry = post(
        admin,
        f"/admin/datasets/{dataset_id}/files/prefix",
        prefix="forms/",
        kind="clinical",
        dry_run="on",
    )
    assert "what would be registered" in dry.text
    assert "forms/two.tsv" in dry.text and "already registered" in dry.text
    assert not keys_registered(demo, "forms/two.tsv")
    real = post(
        admin, f"/admin/datasets/{dataset_id}/files/prefix", prefix="forms/", kind="clinical"
    )
    assert "Registered 1 files; skipped 1" in real.text
    assert keys_registered(demo, "forms/two.tsv")


def keys_registered(demo: DemoInstance, key: str) -> bool:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return session.scalar(select(DataFile.id).where(DataFile.storage_key == key)) is not None


def test_retiring_from_the_page_asks_first(demo: DemoInstance, admin: FlaskClient) -> None:
    dataset_id, files = controlled_files(demo)
    asked = post(admin, f"/admin/files/{files[0]}/retire")
    assert "Yes, retire it" in asked.text
    assert Catalogue(demo).events("admin:file_retire") == []
    done = post(admin, f"/admin/files/{files[0]}/retire", confirmed="yes")
    assert "retired." in done.text
    assert 'id="retired-files"' in done.text
    assert len(Catalogue(demo).events("admin:file_retire")) == 1
    public = admin.get(f"/datasets/{dataset_id}").text
    assert f"/files/{files[0]}/download" not in public


def test_describing_a_file_from_the_page(demo: DemoInstance, admin: FlaskClient) -> None:
    _, files = controlled_files(demo)
    page = post(admin, f"/admin/files/{files[0]}", description="Renamed in the page")
    assert "saved." in page.text and "Renamed in the page" in page.text


def test_the_pages_are_for_admins_only(demo: DemoInstance) -> None:
    dataset_id, files = controlled_files(demo)
    researcher = signed_in_client(demo, "researcher")
    assert researcher.get("/admin/catalogue").status_code == 403
    assert researcher.get(f"/admin/datasets/{dataset_id}").status_code == 403
    refused = researcher.post(
        f"/admin/files/{files[0]}/retire", data={"csrf_token": "known-token", "confirmed": "yes"}
    )
    assert refused.status_code == 403
    assert Catalogue(demo).events("admin:file_retire") == []


def test_a_manifest_imports_from_the_page_all_or_nothing(
    demo: DemoInstance, admin: FlaskClient, tmp_path: Path
) -> None:
    storage = demo.app.extensions["custodian.storage"]
    (tmp_path / "m.tsv").write_bytes(CLINICAL)
    storage.put_file("manifests/m.tsv", tmp_path / "m.tsv")
    header = "location\tkind\ttier\tdataset\tsize\tsha256\tmd5"
    good = "\t".join(
        [
            "manifests/m.tsv",
            "clinical",
            "controlled",
            "phs000424.v10.p2.c1",
            str(len(CLINICAL)),
            hashlib.sha256(CLINICAL).hexdigest(),
            hashlib.md5(CLINICAL, usedforsecurity=False).hexdigest(),
        ]
    )
    bad = good.replace("manifests/m.tsv", "manifests/absent.tsv", 1)

    def upload(*lines: str) -> str:
        body = ("\n".join(lines) + "\n").encode()
        page = admin.post(
            "/admin/manifest",
            follow_redirects=True,
            data={"csrf_token": "known-token", "manifest": (io.BytesIO(body), "m.tsv")},
        )
        return page.text

    refused = upload(header, good, bad)
    assert "nothing was registered" in refused and "Line 3" in refused
    assert not keys_registered(demo, "manifests/m.tsv")
    assert "Registered 1 files from the manifest" in upload(header, good)
    assert keys_registered(demo, "manifests/m.tsv")
