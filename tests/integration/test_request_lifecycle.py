"""After approval: grants end on their date, by revocation or by close-out, for the applicant
and the collaborators alike; renewal; and how several committees' parts combine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from access.committees import ensure_committee_member
from access.identity.actor import Actor
from access.identity.models import Role, User
from access.models import Committee, Grant
from access.roles import ensure_role
from audit.log.models import AuditEvent
from datasets.catalogue.models import Dataset, Study
from tests import factories
from tests.conftest import DemoInstance, issue_token
from tests.integration.workflow_support import Api, events_of

SYSTEM = Actor(user=None)


@pytest.fixture
def api(demo: DemoInstance) -> Iterator[Api]:
    with demo.app.test_client() as client:
        yield Api(demo, client)


def test_expiry_with_a_moved_clock_stops_urls_and_marks_the_request_once(api: Api) -> None:
    request_id = api.bring_to("approved", days=30)
    api.act("researcher2", request_id, "accept")
    assert api.url_status("researcher") == 200
    assert api.url_status("researcher2") == 200
    api.advance(timedelta(days=29, hours=23))
    assert api.url_status("researcher") == 200
    assert api.state(request_id) == "approved"
    api.advance(timedelta(hours=1, seconds=1))
    # URL issuance checks the grant's end itself: nothing had to mark the request first.
    assert api.url_status("researcher") == 403
    assert api.url_status("researcher2") == 403
    assert events_of(api.demo, "request:expire") == 0
    assert api.state(request_id) == "expired"
    assert api.state(request_id, "researcher2") == "expired"
    mine = api.get("researcher", "/requests?scope=mine").get_json()["requests"]
    assert next(r for r in mine if r["id"] == request_id)["state"] == "expired"
    assert events_of(api.demo, "request:expire") == 1  # read three times, expired once


def test_expired_request_shows_expired_in_lists_without_being_opened(api: Api) -> None:
    request_id = api.bring_to("approved", days=1)
    api.advance(timedelta(days=2))
    mine = api.get("researcher", "/requests?scope=mine").get_json()["requests"]
    assert next(r for r in mine if r["id"] == request_id)["state"] == "expired"
    with api.demo.app.extensions["custodian.session_factory"]() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "request:expire")).one()
    assert event.actor_user_id is None and event.target_id == str(request_id)


def test_revocation_stops_the_very_next_url_request_for_everyone(api: Api) -> None:
    request_id = api.bring_to("approved")
    api.act("researcher2", request_id, "accept")
    assert api.url_status("researcher") == 200 and api.url_status("researcher2") == 200
    revoked = api.act("dac-chair", request_id, "revoke")
    assert revoked["state"] == "revoked"
    assert api.url_status("researcher") == 403
    assert api.url_status("researcher2") == 403
    with api.demo.app.extensions["custodian.session_factory"]() as session:
        grants = session.scalars(select(Grant).where(Grant.request_id == request_id)).all()
        refusal = session.scalars(select(AuditEvent).where(AuditEvent.action == "url:refuse")
                                  .order_by(AuditEvent.seq.desc())).first()
    assert len(grants) == 2
    assert all(g.revoked_reason == "revoked: Data shared outside the project." for g in grants)
    assert refusal is not None and refusal.details["reason"] == "grant_revoked"


def test_member_who_is_not_chair_cannot_revoke(api: Api) -> None:
    request_id = api.bring_to("approved")
    api.act("dac-member", request_id, "revoke", expect=403)
    assert api.url_status("researcher") == 200


def test_close_out_needs_the_attestation_and_ends_every_grant(api: Api) -> None:
    request_id = api.bring_to("approved")
    api.act("researcher2", request_id, "accept")
    refused = api.act("researcher", request_id, "close", {"copies_destroyed": False},
                      expect=400)
    assert "copies_destroyed" in refused["error"]["details"]
    assert api.state(request_id) == "approved" and api.url_status("researcher2") == 200
    closed = api.act("researcher", request_id, "close")
    assert closed["state"] == "closed"
    assert closed["close_out_statement"] == "Deleted from every server."
    assert api.url_status("researcher") == 403 and api.url_status("researcher2") == 403


def test_collaborator_has_access_only_once_accepted(api: Api) -> None:
    request_id = api.bring_to("approved")
    assert api.url_status("researcher2") == 403
    shared = api.get("researcher2", "/requests?scope=shared").get_json()["requests"]
    assert [r["id"] for r in shared] == [request_id]
    accepted = api.act("researcher2", request_id, "accept")
    assert accepted["collaborators"][0]["accepted_at"] is not None
    assert "accept" not in accepted["actions"]
    assert api.url_status("researcher2") == 200
    api.act("researcher2", request_id, "accept", expect=409)
    with api.demo.app.extensions["custodian.session_factory"]() as session:
        ends = {g.user_id: g.ends_at for g in session.scalars(
            select(Grant).where(Grant.request_id == request_id))}
    assert len(set(ends.values())) == 1  # the collaborator's access ends with the applicant's


def test_collaborator_accepted_before_approval_is_granted_with_the_applicant(api: Api) -> None:
    request_id = api.bring_to("endorsed")
    api.act("researcher2", request_id, "accept")
    assert api.url_status("researcher2") == 403
    api.act("dac-chair", request_id, "approve")
    assert api.url_status("researcher2") == 200


def test_collaborators_must_be_users_of_the_applicants_institution(api: Api) -> None:
    response = api.post("researcher", "/requests", {
        "title": "Ageing eQTLs", "research_use_statement": "x" * 30,
        "dataset_ids": [api.dataset_id],
        "collaborator_emails": ["dac-member@demo.example", "nobody@demo.example"]})
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["collaborator_emails"] == [
        "dac-member@demo.example", "nobody@demo.example"]


def test_renewal_is_a_linked_prefilled_draft_with_the_progress_report(api: Api) -> None:
    request_id = api.bring_to("approved")
    api.act("researcher", request_id, "revise", expect=409)
    renewal = api.act("researcher", request_id, "renew", expect=201)
    assert renewal["renewal_of_id"] == request_id and renewal["state"] == "draft"
    assert renewal["title"] == "Ageing eQTLs" and renewal["dataset_ids"] == [api.dataset_id]
    assert renewal["progress_report"].startswith("We finished")
    assert [c["email"] for c in renewal["collaborators"]] == ["researcher2@demo.example"]
    again = api.act("researcher", request_id, "renew", expect=409)
    assert again["error"]["details"]["renewal_id"] == renewal["id"]
    for who, action in (("researcher", "submit"), ("signing-official", "endorse"),
                        ("dac-chair", "approve")):
        api.act(who, renewal["id"], action)
    assert api.state(renewal["id"]) == "approved"


def test_renewal_needs_a_progress_report(api: Api) -> None:
    request_id = api.bring_to("approved")
    response = api.act("researcher", request_id, "renew", {}, expect=400)
    assert "progress_report" in response["error"]["details"]


def test_approval_without_days_takes_the_committees_period(api: Api) -> None:
    request_id = api.bring_to("endorsed")
    approved = api.act("dac-chair", request_id, "approve", {"reason": "Fits."})
    assert approved["approved_days"] == 365
    assert approved["parts"][0]["days"] == 365
    committee_id = approved["parts"][0]["committee_id"]
    changed = api.client.patch(f"/api/v1/committees/{committee_id}",
                               headers=api.headers["admin"], json={"default_approval_days": 90})
    assert changed.status_code == 200, changed.get_json()
    second = api.bring_to("endorsed")
    assert api.act("dac-chair", second, "approve", {"reason": "Fits."})["approved_days"] == 90


# --- conflicts of interest and who never votes ------------------------------------------------

def test_member_with_a_declared_conflict_cannot_vote_and_chair_cannot_decide(api: Api) -> None:
    request_id = api.bring_to("endorsed")
    api.act("dac-member", request_id, "declare-conflict")
    refused = api.act("dac-member", request_id, "vote", expect=403)
    assert "conflict of interest" in refused["error"]["message"]
    api.act("dac-member", request_id, "declare-conflict", expect=403)
    api.act("dac-chair", request_id, "declare-conflict")
    api.act("dac-chair", request_id, "approve", expect=403)
    shown = api.get("dac-chair", f"/requests/{request_id}").get_json()
    assert {c["user"] for c in shown["conflicts"]} == {"Morgan Member", "Dana Chair"}
    assert shown["actions"] == []
    assert api.get("researcher", f"/requests/{request_id}").get_json()["conflicts"] is None


def test_applicant_who_sits_on_the_committee_never_votes_on_their_own_request(
    api: Api, demo: DemoInstance,
) -> None:
    """The chair files a request of their own: they may neither vote on it nor decide it."""
    factory = demo.app.extensions["custodian.session_factory"]
    with factory.begin() as session:
        member = session.scalars(select(User).where(User.subject == "dac-member")).one()
        ensure_role(session, SYSTEM, member, Role.SIGNING_OFFICIAL,
                    institution=member.institution, now=demo.clock.now())
    own = api.file("dac-chair")
    api.act("dac-chair", own, "submit")
    api.act("dac-member", own, "endorse")  # the chair's institution's signing official
    refused = api.act("dac-chair", own, "vote", expect=403)
    assert refused["error"]["message"] == "Only the request's committee member may vote it."
    api.act("dac-chair", own, "approve", expect=403)
    votes = api.act("dac-member", own, "vote")
    assert votes["state"] == "under_review"
    assert [v["voter"] for v in votes["votes"]] == ["Morgan Member"]


def test_collaborator_who_sits_on_the_committee_does_not_vote(api: Api, demo: DemoInstance
                                                              ) -> None:
    factory = demo.app.extensions["custodian.session_factory"]
    with factory.begin() as session:
        researcher2 = session.scalars(select(User).where(User.subject == "researcher2")).one()
        committee = session.get(Committee, session.scalars(select(Dataset.committee_id).where(
            Dataset.id == api.dataset_id)).one())
        assert committee is not None
        ensure_committee_member(session, SYSTEM, committee, researcher2, chair=False,
                                now=demo.clock.now())
    request_id = api.bring_to("endorsed")
    api.act("researcher2", request_id, "vote", expect=403)


def test_votes_are_replaced_and_hidden_from_the_applicant(api: Api) -> None:
    request_id = api.bring_to("endorsed")
    api.act("dac-member", request_id, "vote")
    changed = api.act("dac-member", request_id, "vote",
                      {"vote": "reject", "rationale": "On reflection, no."})
    assert [(v["vote"], v["rationale"]) for v in changed["votes"]] == [
        ("reject", "On reflection, no.")]
    assert api.get("researcher", f"/requests/{request_id}").get_json()["votes"] is None
    api.act("dac-member", request_id, "vote", {"vote": "maybe", "rationale": "x"}, expect=400)


# --- several committees ------------------------------------------------------------------------

@pytest.fixture
def second_committee(api: Api, demo: DemoInstance) -> tuple[int, int]:
    """A second committee, chaired by a new user, governing a second controlled dataset."""
    factory = demo.app.extensions["custodian.session_factory"]
    now = demo.clock.now()
    with factory.begin() as session:
        issuer = session.scalars(select(User.issuer).where(User.subject == "researcher")).one()
        chair_b = factories.user(session, now, issuer=issuer, subject="chair-b",
                                 name="Blair Chair", institution="Other Consortium")
        committee = factories.committee(session, now, name="Second DAC", chairs=[chair_b])
        study = session.scalars(select(Study)).first()
        dataset = factories.controlled_dataset(session, now, committee, of_study=study,
                                               accession="phs000424.c2")
        factories.catalogued_file(session, now, dataset, name="b.vcf.gz")
        ids = (committee.id, dataset.id)
    api.headers["chair-b"] = issue_token(demo, "chair-b")
    return ids


def file_two_parts(api: Api, dataset_b: int) -> int:
    request_id = api.file(dataset_ids=[api.dataset_id, dataset_b])
    api.act("researcher", request_id, "submit")
    api.act("signing-official", request_id, "endorse")
    return request_id


def test_each_committee_decides_its_part_and_grants_follow_approved_parts(
    api: Api, second_committee: tuple[int, int],
) -> None:
    committee_b, dataset_b = second_committee
    request_id = file_two_parts(api, dataset_b)
    first = api.act("dac-chair", request_id, "approve")
    assert first["state"] == "under_review"
    assert api.url_status("researcher") == 403  # no grant before every part is decided
    api.act("dac-chair", request_id, "reject", expect=409)  # its own part is decided
    second = api.act("chair-b", request_id, "reject")
    assert second["state"] == "approved"
    assert {p["committee_id"]: p["decision"] for p in second["parts"]}[committee_b] == "rejected"
    with api.demo.app.extensions["custodian.session_factory"]() as session:
        granted = set(session.scalars(select(Grant.dataset_id).where(
            Grant.request_id == request_id)))
    assert granted == {api.dataset_id}


def test_all_parts_rejected_rejects_and_any_return_returns_the_whole(
    api: Api, second_committee: tuple[int, int],
) -> None:
    _, dataset_b = second_committee
    rejected = file_two_parts(api, dataset_b)
    api.act("chair-b", rejected, "reject")
    assert api.act("dac-chair", rejected, "reject")["state"] == "rejected"

    returned = file_two_parts(api, dataset_b)
    api.act("dac-chair", returned, "approve")
    back = api.act("chair-b", returned, "return")
    assert back["state"] == "returned"
    question = back["questions"][0]
    api.act("researcher", returned, "answer", {"answers": {str(question["id"]): "Liver."}})
    api.act("researcher", returned, "submit")
    api.act("signing-official", returned, "endorse")
    again = api.get("researcher", f"/requests/{returned}").get_json()
    assert [p["decision"] for p in again["parts"]] == [None, None]  # decided afresh


def test_committee_queue_filters(api: Api, second_committee: tuple[int, int]) -> None:
    committee_b, dataset_b = second_committee
    only_a = api.bring_to("endorsed")
    both = file_two_parts(api, dataset_b)
    queue = api.get("chair-b", f"/committees/{committee_b}/queue").get_json()["requests"]
    assert [r["id"] for r in queue] == [both]
    committee_a = api.get("dac-chair", f"/requests/{only_a}").get_json()["parts"][0][
        "committee_id"]
    path = f"/committees/{committee_a}/queue"
    assert [r["id"] for r in api.get("dac-member", path).get_json()["requests"]] == [only_a, both]
    filtered = api.get("dac-member", f"{path}?dataset_id={dataset_b}").get_json()["requests"]
    assert filtered == []
    api.act("dac-chair", only_a, "approve")
    approved = api.get("dac-member", f"{path}?state=approved").get_json()["requests"]
    assert [r["id"] for r in approved] == [only_a]
    today = api.demo.clock.now().date()
    later = (today + timedelta(days=1)).isoformat()
    dated = api.get("dac-member", f"{path}?state=approved,under_review,endorsed"
                    f"&submitted_from={today.isoformat()}&submitted_to={today.isoformat()}")
    assert len(dated.get_json()["requests"]) == 2
    assert api.get("dac-member", f"{path}?submitted_from={later}").get_json()["requests"] == []
    assert api.get("dac-member", f"{path}?state=bogus").status_code == 400
    assert api.get("chair-b", path).status_code == 403
    assert api.get("researcher", path).status_code == 403


def test_committee_members_are_listed_only_to_overseers_and_the_committee(
    api: Api, second_committee: tuple[int, int],
) -> None:
    committee_b, _ = second_committee
    path = f"/committees/{committee_b}"
    assert [m["name"] for m in api.get("chair-b", path).get_json()["members"]] == ["Blair Chair"]
    assert "members" in api.get("auditor", path).get_json()
    shown = api.get("researcher", path).get_json()
    assert shown["name"] == "Second DAC" and "members" not in shown
