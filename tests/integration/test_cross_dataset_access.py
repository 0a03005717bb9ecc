"""A grant or a visa opens its own dataset and no other, on every way a file leaves.

The demo has one controlled dataset; here a second one, governed by a committee of its
own, sits beside it. Whoever holds access to one asks for the other's file through the
API, DRS (single and bulk) and the local backend's file endpoint, and is refused and
audited each time, while the same routes serve the file of the dataset they hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.models import User
from audit.log.models import AuditEvent
from datasets.agreements.versions import current_agreement
from datasets.catalogue.models import DataFile, Dataset
from datasets.demo.synthetic_study import CONSENT_GROUP_ACCESSION
from tests import factories
from tests.agreements import accept_as
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import fetch
from tests.integration.passport_support import Trusting, trusting

__all__ = ["trusting"]
HOLDER = "researcher2"  # holds nothing in the demo: what they can reach, the test gave them


@dataclass(frozen=True)
class Side:
    dataset_id: int
    file_id: int


@dataclass(frozen=True)
class TwoDatasets:
    demo: Side  # the demo's GRU consent group, with its data-use agreement
    second: Side  # a consent group of another study, governed by a second committee


def add_second_dataset(session: Session, demo: DemoInstance, storage_root: Path
                       ) -> TwoDatasets:
    now = demo.clock.now()
    first = session.scalars(select(Dataset).where(
        Dataset.accession == CONSENT_GROUP_ACCESSION)).one()
    first_file = min(f.id for f in first.files)
    chair = factories.user(session, now, subject="second-chair")
    committee = factories.committee(session, now, name="Second DAC", chairs=[chair])
    second = factories.controlled_dataset(session, now, committee)
    data_file = factories.catalogued_file(session, now, second, name="second.vcf.gz")
    stored = storage_root / data_file.storage_key
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"the second study's genotypes")
    assert second.committee_id != first.committee_id
    return TwoDatasets(Side(first.id, first_file), Side(second.id, data_file.id))


@pytest.fixture
def two(demo: DemoInstance) -> TwoDatasets:
    with demo.app.app_context(), demo.app.extensions["custodian.session_factory"].begin() as s:
        return add_second_dataset(s, demo, demo.settings.storage_root)


def holder(session: Session) -> User:
    return session.scalars(select(User).where(User.subject == HOLDER)).one()


def give(demo: DemoInstance, side: Side, basis: str) -> None:
    """Access to one side only: an approved grant of ours, or a visa stored at sign-in."""
    factory = demo.app.extensions["custodian.session_factory"]
    with factory.begin() as session:
        dataset = session.get(Dataset, side.dataset_id)
        assert dataset is not None
        if basis == "grant":
            factories.grant(session, demo.clock.now(), holder(session), dataset)
        else:
            factories.sign_in_visa(session, demo.clock.now(), holder(session), dataset)
        has_agreement = current_agreement(session, side.dataset_id) is not None
    if basis == "grant" and has_agreement:  # our grants download under our agreement
        accept_as(demo, HOLDER, side.dataset_id)


# Every route that hands out a URL, as (name, call): each returns the status and the URL.
Route = Callable[[FlaskClient, dict[str, str], int], tuple[int, str | None]]


def api_get(client: FlaskClient, headers: dict[str, str], file_id: int) -> tuple[int, str | None]:
    answer = client.get(f"/api/v1/files/{file_id}/url", headers=headers)
    return answer.status_code, (answer.get_json() or {}).get("url")


def drs_get(client: FlaskClient, headers: dict[str, str], file_id: int) -> tuple[int, str | None]:
    answer = client.get(f"/ga4gh/drs/v1/objects/{file_id}/access/signed-url", headers=headers)
    return answer.status_code, (answer.get_json() or {}).get("url")


def drs_post(client: FlaskClient, headers: dict[str, str], file_id: int
             ) -> tuple[int, str | None]:
    answer = client.post(f"/ga4gh/drs/v1/objects/{file_id}/access/signed-url", headers=headers,
                         json={})
    return answer.status_code, (answer.get_json() or {}).get("url")


def drs_bulk(client: FlaskClient, headers: dict[str, str], file_id: int
             ) -> tuple[int, str | None]:
    """A bulk answer is 200 either way: the object's own status is where it is listed."""
    answer = client.post("/ga4gh/drs/v1/objects/access", headers=headers, json={
        "bulk_object_access_ids": [{"bulk_object_id": str(file_id),
                                    "bulk_access_ids": ["signed-url"]}]})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    if body["resolved_drs_object_access_urls"]:
        return 200, body["resolved_drs_object_access_urls"][0]["url"]
    [unresolved] = body["unresolved_drs_objects"]
    assert unresolved["object_ids"] == [str(file_id)]
    return int(unresolved["error_code"]), None


ROUTES: dict[str, Route] = {"api": api_get, "drs-get": drs_get, "drs-post": drs_post,
                            "drs-bulk": drs_bulk}


def refusals(demo: DemoInstance, file_id: int) -> list[AuditEvent]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "url:refuse", AuditEvent.target_id == str(file_id))
            .order_by(AuditEvent.seq)))


@pytest.mark.parametrize("basis", ["grant", "sign_in_visa"])
@pytest.mark.parametrize("held", ["demo", "second"])
@pytest.mark.parametrize("route", list(ROUTES))
def test_access_to_one_dataset_gets_no_url_for_the_others_file(
    demo: DemoInstance, two: TwoDatasets, basis: str, held: str, route: str
) -> None:
    mine, theirs = (two.demo, two.second) if held == "demo" else (two.second, two.demo)
    give(demo, mine, basis)
    client, headers, ask = demo.app.test_client(), issue_token(demo, HOLDER), ROUTES[route]

    status, url = ask(client, headers, mine.file_id)
    assert status == 200 and url is not None
    assert fetch(client, url) == 200
    assert ask(client, headers, theirs.file_id) == (403, None)

    [refused] = refusals(demo, theirs.file_id)
    assert refused.outcome == "denied" and refused.actor_subject == HOLDER
    assert refused.details["dataset_id"] == theirs.dataset_id
    assert refused.details["reason"] == "no_grant"


def test_a_url_for_one_datasets_file_does_not_open_the_others(
    demo: DemoInstance, two: TwoDatasets
) -> None:
    give(demo, two.second, "grant")
    client = demo.app.test_client()
    _, url = api_get(client, issue_token(demo, HOLDER), two.second.file_id)
    assert url is not None
    with demo.app.extensions["custodian.session_factory"]() as session:
        other_key = session.get(DataFile, two.demo.file_id)
        assert other_key is not None
        swapped = url.replace(urlsplit(url).path, f"/storage/{other_key.storage_key}")
    assert fetch(client, swapped) == 403
    assert fetch(client, url) == 200
    with demo.app.extensions["custodian.session_factory"]() as session:
        [refused] = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "file:refuse")).all()
    assert refused.target_id == other_key.storage_key


@pytest.mark.parametrize("how", ["api", "drs"])
def test_a_presented_visa_for_one_dataset_gets_no_url_for_the_others_file(
    trusting: Trusting, how: str
) -> None:
    setup = trusting
    with setup.app.app_context(), setup.app.extensions["custodian.session_factory"].begin() as s:
        two = add_second_dataset(s, setup.demo, setup.demo.settings.storage_root)
    visa = setup.broker.visa(CONSENT_GROUP_ACCESSION, now=setup.now())
    headers = issue_token(setup.demo, HOLDER)
    path = ("/api/v1/files/{}/url" if how == "api"
            else "/ga4gh/drs/v1/objects/{}/access/signed-url")

    opened = requests.post(setup.base + path.format(two.demo.file_id), headers=headers,
                           json={"passports": [visa]}, timeout=10)
    assert opened.status_code == 200, opened.text
    refused = requests.post(setup.base + path.format(two.second.file_id), headers=headers,
                            json={"passports": [visa]}, timeout=10)
    assert refused.status_code == 403, refused.text
    [event] = refusals(setup.demo, two.second.file_id)
    assert event.details["dataset_id"] == two.second.dataset_id
    assert event.details["reason"] == "no_grant"
