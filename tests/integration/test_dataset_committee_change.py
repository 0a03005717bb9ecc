"""Moving a dataset to another committee: requests no committee has seen go with it, one a
committee is deliberating blocks the move (409 naming it), decided ones keep the committee
that decided them; a dataset with files keeps its tier."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from access.requests.models import RequestedDataset
from tests.conftest import DemoInstance
from tests.integration.audit_support import controlled_files
from tests.integration.catalogue_admin_support import Catalogue
from tests.integration.workflow_support import STATEMENT


@pytest.fixture
def catalogue(demo: DemoInstance) -> Catalogue:
    return Catalogue(demo)


def file_request(catalogue: Catalogue, dataset_id: int, *actions: str) -> int:
    researcher = catalogue.headers["researcher"]
    filed = catalogue.client.post(
        "/api/v1/requests",
        headers=researcher,
        json={
            "title": "Ageing eQTLs",
            "research_use_statement": STATEMENT,
            "dataset_ids": [dataset_id],
        },
    )
    assert filed.status_code == 201, filed.get_json()
    request_id = int(filed.get_json()["id"])
    for action in actions:
        who = "signing-official" if action == "endorse" else "researcher"
        done = catalogue.client.post(
            f"/api/v1/requests/{request_id}/{action}", headers=catalogue.headers[who], json={}
        )
        assert done.status_code == 200, (action, done.get_json())
    return request_id


def committees_of(catalogue: Catalogue, dataset_id: int) -> dict[int, int]:
    with catalogue.demo.app.extensions["custodian.session_factory"]() as session:
        return {
            row.request_id: row.committee_id
            for row in session.scalars(
                select(RequestedDataset).where(RequestedDataset.dataset_id == dataset_id)
            )
        }


def test_requests_under_review_block_the_move_and_unseen_ones_follow_it(
    catalogue: Catalogue,
) -> None:
    first, second = catalogue.committee(), catalogue.committee()
    dataset_id = catalogue.dataset(committee_id=first).get_json()["id"]
    draft = file_request(catalogue, dataset_id)
    submitted = file_request(catalogue, dataset_id, "submit")
    endorsed = file_request(catalogue, dataset_id, "submit", "endorse")

    blocked = catalogue.call("PATCH", f"/datasets/{dataset_id}", {"committee_id": second})
    assert blocked.status_code == 409, blocked.get_json()
    assert blocked.get_json()["error"]["details"] == {"committee_id": first, "requests": [endorsed]}
    assert set(committees_of(catalogue, dataset_id).values()) == {first}
    assert catalogue.events("admin:dataset_update") == []

    withdrawn = catalogue.client.post(
        f"/api/v1/requests/{endorsed}/withdraw", headers=catalogue.headers["researcher"], json={}
    )
    assert withdrawn.status_code == 200, withdrawn.get_json()
    moved = catalogue.call("PATCH", f"/datasets/{dataset_id}", {"committee_id": second})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["committee_id"] == second
    assert committees_of(catalogue, dataset_id) == {
        draft: second,
        submitted: second,
        endorsed: first,
    }
    [event] = catalogue.events("admin:dataset_update")
    assert event.details["changes"]["committee_id"] == {"from": first, "to": second}
    assert event.details["requests_moved"] == [draft, submitted]


def test_a_dataset_with_files_keeps_its_tier(demo: DemoInstance, catalogue: Catalogue) -> None:
    dataset_id, _ = controlled_files(demo)
    refused = catalogue.call(
        "PATCH", f"/datasets/{dataset_id}", {"tier": "open", "committee_id": None}
    )
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["details"]["tier"] == "fixed"
    shown = catalogue.call("GET", f"/datasets/{dataset_id}").get_json()
    assert shown["tier"] == "controlled" and shown["committee_id"] is not None


def test_an_empty_dataset_may_become_open(catalogue: Catalogue) -> None:
    dataset_id = catalogue.dataset().get_json()["id"]
    opened = catalogue.call(
        "PATCH", f"/datasets/{dataset_id}", {"tier": "open", "committee_id": None}
    )
    assert opened.status_code == 200, opened.get_json()
    assert opened.get_json()["tier"] == "open"
