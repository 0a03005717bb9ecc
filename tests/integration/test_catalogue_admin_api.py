"""Admins register and change studies and datasets through the JSON API: every change is
audited, anyone else is refused on record, and a bad body is a 400 naming its field with
nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from datasets.catalogue.models import Dataset, Study
from tests.conftest import DemoInstance
from tests.integration.catalogue_admin_support import Catalogue


@pytest.fixture
def catalogue(demo: DemoInstance) -> Catalogue:
    return Catalogue(demo)


def test_admin_registers_lists_and_changes_a_study(catalogue: Catalogue) -> None:
    study_id = catalogue.study("phs000555")
    listed = catalogue.call("GET", "/studies", who="researcher").get_json()["studies"]
    assert {
        "id": study_id,
        "accession": "phs000555",
        "title": "A study",
        "description": "",
        "dataset_ids": [],
    } in listed
    changed = catalogue.call("PATCH", f"/studies/{study_id}", {"title": "GTEx v10"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["title"] == "GTEx v10"
    [registered] = [
        e for e in catalogue.events("admin:study_register") if e.target_id == str(study_id)
    ]
    assert registered.details == {"accession": "phs000555", "title": "A study"}
    [update] = catalogue.events("admin:study_update")
    assert update.target_id == str(study_id)
    assert update.details == {"changes": {"title": {"from": "A study", "to": "GTEx v10"}}}


def test_only_admins_change_the_catalogue_and_refusals_are_on_record(catalogue: Catalogue) -> None:
    studies = catalogue.count(Study)
    refused = catalogue.call(
        "POST", "/studies", {"accession": "phs000999", "title": "Mine"}, who="researcher"
    )
    assert refused.status_code == 403, refused.get_json()
    assert catalogue.count(Study) == studies
    assert catalogue.events("admin:refused")[-1].details == {"what": "study_create"}
    anonymous = catalogue.client.post("/api/v1/datasets", json={})
    assert anonymous.status_code in (400, 401)  # no session: CSRF or sign-in refuses it


def test_a_taken_accession_is_a_409_and_writes_nothing(catalogue: Catalogue) -> None:
    catalogue.study("phs000555")
    studies = catalogue.count(Study)
    again = catalogue.call("POST", "/studies", {"accession": "phs000555", "title": "Again"})
    assert again.status_code == 409
    assert again.get_json()["error"]["details"] == {"accession": "phs000555"}
    assert catalogue.count(Study) == studies


def test_dataset_takes_duo_shorthands_and_ids_and_stores_ids(catalogue: Catalogue) -> None:
    made = catalogue.dataset(
        duo_codes=["ds", "DUO:0000019", "IRB"], duo_disease_ids=["MONDO:0005148"]
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert [term["shorthand"] for term in body["data_use"]] == ["DS", "PUB", "IRB"]
    assert body["tier"] == "controlled"
    shown = catalogue.call("GET", f"/datasets/{body['id']}", who="researcher").get_json()
    assert [term["id"] for term in shown["data_use"]] == [
        "DUO:0000007",
        "DUO:0000019",
        "DUO:0000021",
    ]
    assert shown["duo_disease_ids"] == ["MONDO:0005148"]
    [event] = [
        e for e in catalogue.events("admin:dataset_register") if e.target_id == str(body["id"])
    ]
    assert event.details["duo_codes"] == ["DUO:0000007", "DUO:0000019", "DUO:0000021"]


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"duo_codes": ["GRU", "XYZ"]}, "duo_codes", "neither a DUO id nor a shorthand"),
        ({"duo_codes": ["DUO:0000001"]}, "duo_codes", "category of terms"),
        ({"duo_codes": ["GRU", "HMB"]}, "duo_codes", "at most one data use permission"),
        ({"duo_codes": ["DS"]}, "duo_disease_ids", "names its diseases"),
        ({"duo_disease_ids": ["MONDO:0005148"]}, "duo_disease_ids", "Only DS"),
        ({"duo_codes": ["DS"], "duo_disease_ids": ["diabetes"]}, "duo_disease_ids", "MONDO"),
        ({"committee_id": None, "tier": "controlled"}, "committee_id", "needs the committee"),
        ({"tier": "open"}, "committee_id", "Open data has no committee"),
        ({"committee_id": 99999}, "committee_id", "No committee 99999"),
        ({"study_id": 99999}, "study_id", "No study 99999"),
        ({"tier": "secret"}, "tier", "Must be one of"),
        ({"accession": "phs 1/2"}, "accession", "letters, digits"),
    ],
)
def test_bad_dataset_is_a_400_naming_the_field_and_writes_nothing(
    catalogue: Catalogue, fields: dict[str, Any], field: str, says: str
) -> None:
    study_id, committee_id = catalogue.study(), catalogue.committee()
    datasets = catalogue.count(Dataset)
    body = {"study_id": study_id, "committee_id": committee_id, **fields}
    answer = catalogue.dataset(**body)
    assert answer.status_code == 400, answer.get_json()
    details = answer.get_json()["error"]["details"]
    assert list(details) == [field]
    assert says in str(details[field])
    assert catalogue.count(Dataset) == datasets


def test_open_dataset_has_no_committee(catalogue: Catalogue) -> None:
    made = catalogue.call(
        "POST",
        "/datasets",
        {
            "study_id": catalogue.study(),
            "accession": "phs000777.open",
            "name": "Results",
            "tier": "open",
        },
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["tier"] == "open"
    assert made.get_json()["committee_id"] is None


def test_changing_data_use_is_audited_with_old_and_new_terms(catalogue: Catalogue) -> None:
    dataset_id = catalogue.dataset().get_json()["id"]
    changed = catalogue.call(
        "PATCH",
        f"/datasets/{dataset_id}",
        {"duo_codes": ["HMB", "NPU"], "use_limitation_text": "HMB-NPU"},
    )
    assert changed.status_code == 200, changed.get_json()
    assert [t["shorthand"] for t in changed.get_json()["data_use"]] == ["HMB", "NPU"]
    [event] = catalogue.events("admin:dataset_update")
    assert event.details["changes"]["duo_codes"] == {
        "from": ["DUO:0000042"],
        "to": ["DUO:0000006", "DUO:0000045"],
    }
    assert event.details["changes"]["use_limitation_text"] == {"from": "", "to": "HMB-NPU"}


def test_bad_change_is_checked_against_the_whole_record_and_changes_nothing(
    catalogue: Catalogue,
) -> None:
    dataset_id = catalogue.dataset().get_json()["id"]
    answer = catalogue.call("PATCH", f"/datasets/{dataset_id}", {"duo_codes": ["DS"]})
    assert answer.status_code == 400
    assert list(answer.get_json()["error"]["details"]) == ["duo_disease_ids"]
    empty = catalogue.call("PATCH", f"/datasets/{dataset_id}", {})
    assert empty.status_code == 400
    shown = catalogue.call("GET", f"/datasets/{dataset_id}").get_json()
    assert [t["shorthand"] for t in shown["data_use"]] == ["GRU"]
    assert catalogue.events("admin:dataset_update") == []


def test_patch_of_a_missing_dataset_or_study_is_a_404(catalogue: Catalogue) -> None:
    assert catalogue.call("PATCH", "/datasets/99999", {"name": "x"}).status_code == 404
    assert catalogue.call("PATCH", "/studies/99999", {"title": "x"}).status_code == 404


def test_moving_a_dataset_to_another_study_shows_the_new_study(catalogue: Catalogue) -> None:
    dataset_id = catalogue.dataset().get_json()["id"]
    other = catalogue.study("phs000888")
    moved = catalogue.call("PATCH", f"/datasets/{dataset_id}", {"study_id": other})
    assert moved.get_json()["study"]["accession"] == "phs000888"
