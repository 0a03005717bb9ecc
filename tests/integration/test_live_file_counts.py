"""Each dataset's kept count of live files (revision 0021's triggers) stays equal to its live
files whatever writes them: registration, retirement, a manifest import, plain SQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from datasets.catalogue.models import DataFile
from datasets.catalogue.queries import live_file_counts
from tests.conftest import DemoInstance
from tests.integration.audit_support import controlled_files
from tests.integration.catalogue_admin_support import Catalogue
from tests.integration.test_file_registration_api import CLINICAL, stated
from tests.integration.test_manifest_import import DATASET, HEADER, line, run_import


@pytest.fixture
def catalogue(demo: DemoInstance) -> Catalogue:
    return Catalogue(demo)


def kept(demo: DemoInstance) -> dict[int, int]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return live_file_counts(session)


def counted(demo: DemoInstance) -> dict[int, int]:
    """The truth: each dataset's live files counted one by one (0 for none)."""
    with demo.app.extensions["custodian.session_factory"]() as session:
        rows = {dataset_id: count for dataset_id, count in session.execute(
            select(DataFile.dataset_id, func.count()).where(DataFile.retired_at.is_(None))
            .group_by(DataFile.dataset_id))}
    return {dataset_id: rows.get(dataset_id, 0) for dataset_id in kept(demo)}


def put(demo: DemoInstance, tmp_path: Path, key: str, content: bytes) -> None:
    source = tmp_path / key.replace("/", "_")
    source.write_bytes(content)
    demo.app.extensions["custodian.storage"].put_file(key, source)


def test_the_demo_starts_with_its_counts_kept(demo: DemoInstance) -> None:
    assert kept(demo) == counted(demo)
    assert sum(kept(demo).values()) > 0


def test_registering_and_retiring_move_the_count_and_other_changes_do_not(
    demo: DemoInstance, catalogue: Catalogue, tmp_path: Path
) -> None:
    dataset_id, _ = controlled_files(demo)
    before = kept(demo)[dataset_id]
    put(demo, tmp_path, "uploads/clinical.tsv", CLINICAL)
    made = catalogue.call("POST", f"/datasets/{dataset_id}/files",
                          stated(CLINICAL, "uploads/clinical.tsv"))
    assert made.status_code == 201, made.get_json()
    assert kept(demo)[dataset_id] == before + 1
    file_id = made.get_json()["id"]
    changed = catalogue.call("PATCH", f"/files/{file_id}", {"description": "Ages"})
    assert changed.status_code == 200, changed.get_json()
    assert kept(demo)[dataset_id] == before + 1
    assert catalogue.call("DELETE", f"/files/{file_id}").status_code == 204
    assert kept(demo)[dataset_id] == before
    assert kept(demo) == counted(demo)


def test_the_catalogue_pages_show_the_kept_count(
    demo: DemoInstance, catalogue: Catalogue
) -> None:
    dataset_id, files = controlled_files(demo)
    assert catalogue.call("DELETE", f"/files/{files[0]}").status_code == 204
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        session.execute(text("UPDATE datasets SET live_file_count = 4242 WHERE id = :d"),
                        {"d": dataset_id})  # a figure only the kept count could show
    page = demo.app.test_client().get("/")
    assert page.status_code == 200
    assert "<td>4242</td>" in page.get_data(as_text=True)


def test_a_manifest_import_counts_every_file_it_registers(
    demo: DemoInstance, tmp_path: Path
) -> None:
    objects = {"imports/one.tsv": b"one\n" * 10, "imports/two.tsv": b"two\n" * 20}
    for key, content in objects.items():
        put(demo, tmp_path, key, content)
    with demo.app.extensions["custodian.session_factory"]() as session:
        dataset_id = session.scalars(text("SELECT id FROM datasets WHERE accession = :a"),
                                     {"a": DATASET}).one()
    before = kept(demo)[dataset_id]
    result = run_import(demo, tmp_path, HEADER,
                        *(line(key, content, kind="clinical") for key, content in objects.items()))
    assert result.exit_code == 0, result.output
    assert kept(demo)[dataset_id] == before + 2
    assert kept(demo) == counted(demo)


def test_files_written_moved_and_removed_in_sql_keep_the_counts(demo: DemoInstance) -> None:
    """Whatever writes data_files (a bulk COPY, an operator's SQL), in one statement or many."""
    first, second = sorted(kept(demo))[:2]
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        session.execute(text(
            "INSERT INTO data_files (dataset_id, name, kind, tier, description, storage_key, "
            "size, md5, sha256, created_at, retired_at) VALUES "
            "(:a, 'x1', 'clinical', 'controlled', '', 'sql/x1', 1, '', '', :now, NULL), "
            "(:a, 'x2', 'clinical', 'controlled', '', 'sql/x2', 1, '', '', :now, NULL), "
            "(:b, 'x3', 'clinical', 'controlled', '', 'sql/x3', 1, '', '', :now, NULL), "
            "(:b, 'x4', 'clinical', 'controlled', '', 'sql/x4', 1, '', '', :now, :now)"),
            {"a": first, "b": second, "now": demo.clock.now()})
    assert kept(demo) == counted(demo)
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        session.execute(text("UPDATE data_files SET dataset_id = :b "
                             "WHERE storage_key IN ('sql/x1', 'sql/x4')"), {"b": second})
    assert kept(demo) == counted(demo)
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        session.execute(text("UPDATE data_files SET retired_at = NULL "
                             "WHERE storage_key = 'sql/x4'"))
    assert kept(demo) == counted(demo)
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        session.execute(text("DELETE FROM data_files WHERE storage_key LIKE 'sql/%'"))
    assert kept(demo) == counted(demo)
