"""When a grant or a sign-in visa opens a dataset: from its start, until the instant it ends,
for its holder only; and what a refused URL request records.

Each check is at its edge (the exact instant, the other user) so that a comparison turned
the wrong way round or a dropped condition fails here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from access.identity.models import User
from audit.log.models import AuditEvent
from datasets.catalogue.models import Dataset
from datasets.demo.synthetic_study import CONSENT_GROUP_ACCESSION
from tests import factories
from tests.agreements import accept_as
from tests.conftest import DemoInstance, issue_token

HOLDER, OTHER = "researcher2", "researcher"


def file_and_dataset(demo: DemoInstance) -> tuple[int, int]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        dataset = session.scalars(select(Dataset).where(
            Dataset.accession == CONSENT_GROUP_ACCESSION)).one()
        return min(f.id for f in dataset.files), dataset.id


def give(demo: DemoInstance, basis: str, username: str = HOLDER, *,
         starts_in: timedelta = timedelta(days=-1), lasts: timedelta = timedelta(days=30)
         ) -> int:
    """A grant or a sign-in visa on the GRU consent group; returns its id."""
    now = demo.clock.now()
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        dataset = session.scalars(select(Dataset).where(
            Dataset.accession == CONSENT_GROUP_ACCESSION)).one()
        user = session.scalars(select(User).where(User.subject == username)).one()
        if basis == "grant":
            made_id = factories.grant(session, now, user, dataset, starts_at=now + starts_in,
                                      days=lasts.days).id
        else:
            made_id = factories.sign_in_visa(session, now, user, dataset,
                                             asserted_at=now + starts_in,
                                             hours=int(lasts.total_seconds() // 3600)).id
    if basis == "grant":
        accept_as(demo, username, dataset.id)
    return made_id


def status(demo: DemoInstance, username: str = HOLDER) -> int:
    file_id, _ = file_and_dataset(demo)
    answer = demo.app.test_client().get(f"/api/v1/files/{file_id}/url",
                                        headers=issue_token(demo, username))
    return answer.status_code


def last_event(demo: DemoInstance, action: str) -> AuditEvent:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found: AuditEvent | None = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action)
            .order_by(AuditEvent.seq.desc())).first()
    assert found is not None
    return found


@pytest.mark.parametrize("basis", ["grant", "sign_in_visa"])
def test_access_opens_at_its_start_and_ends_at_its_end(demo: DemoInstance, basis: str) -> None:
    lasts = timedelta(days=2) if basis == "grant" else timedelta(hours=2)
    give(demo, basis, starts_in=timedelta(hours=1), lasts=lasts)
    assert status(demo) == 403  # not yet
    demo.clock.advance(timedelta(hours=1))
    assert status(demo) == 200  # from the instant it starts
    demo.clock.advance(lasts - timedelta(hours=1) - timedelta(microseconds=1))
    assert status(demo) == 200  # until the last instant
    demo.clock.advance(timedelta(microseconds=1))
    assert status(demo) == 403  # and not at its end


@pytest.mark.parametrize("basis", ["grant", "sign_in_visa"])
def test_access_is_its_holders_only_and_says_what_granted_it(
    demo: DemoInstance, basis: str
) -> None:
    give(demo, basis)
    assert status(demo, OTHER) == 403
    assert status(demo) == 200
    issued = last_event(demo, "url:issue")
    assert issued.details.get("granted_by") == (None if basis == "grant" else "sign_in_visa")


def test_a_refusal_names_the_lapsed_grant_and_the_message_says_what_to_do(
    demo: DemoInstance,
) -> None:
    grant_id = give(demo, "grant", lasts=timedelta(days=1))
    demo.clock.advance(timedelta(days=1))
    file_id, dataset_id = file_and_dataset(demo)
    answer = demo.app.test_client().get(f"/api/v1/files/{file_id}/url",
                                        headers=issue_token(demo, HOLDER))
    assert answer.status_code == 403
    assert answer.get_json()["error"]["message"] == (
        "You hold no live grant for this file's dataset. File a data-access request.")
    assert answer.get_json()["error"]["details"] == {"dataset_id": dataset_id}
    refused = last_event(demo, "url:refuse")
    assert (refused.target_type, refused.target_id) == ("file", str(file_id))
    assert refused.details == {"dataset_id": dataset_id, "reason": "grant_expired",
                               "grant_id": grant_id}


def test_an_anonymous_request_for_a_controlled_file_is_refused_and_audited(
    demo: DemoInstance,
) -> None:
    file_id, dataset_id = file_and_dataset(demo)
    answer = demo.app.test_client().get(f"/api/v1/files/{file_id}/url")
    assert answer.status_code == 401
    assert answer.get_json()["error"]["message"] == "Sign in to download controlled-access files."
    refused = last_event(demo, "url:refuse")
    assert (refused.target_type, refused.target_id, refused.details) == (
        "file", str(file_id), {"dataset_id": dataset_id})
    assert refused.actor_user_id is None
