"""Every action of the request workflow, in every state, by every demo persona, over HTTP.

For each state a fresh request is brought there for each action; every persona then tries
the action (those it is refused to first). The expected status follows from the rules:
404 when the persona may not see the request, 403 when the action is not theirs, 409 when
the state does not allow it, else success, with exactly one audit event of the action.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from access.requests.moves import ACTION_EVENTS
from access.requests.workflow import TRANSITIONS, Party, RequestAction, RequestState, party_for
from tests import factories
from tests.conftest import DemoInstance
from tests.integration.workflow_support import PERSONAS, Api, events_of

PARTIES = {
    "researcher": {Party.APPLICANT},
    "researcher2": {Party.COLLABORATOR},
    "signing-official": {Party.SIGNING_OFFICIAL},
    "dac-chair": {Party.MEMBER, Party.CHAIR},
    "dac-member": {Party.MEMBER},
    "auditor": set(),
    "admin": set(),
}
NEVER_SUBMITTED = {"draft"}
NEVER_ENDORSED = {"draft", "submitted", "withdrawn"}  # as bring_to makes them
HTTP_ACTIONS = [action for action in RequestAction if action is not RequestAction.EXPIRE]


def expected_status(state: str, action: RequestAction, persona: str) -> int:
    if persona == "signing-official" and state in NEVER_SUBMITTED:
        return 404
    if persona in ("dac-chair", "dac-member") and state in NEVER_ENDORSED:
        return 404
    if party_for(action) not in PARTIES[persona]:
        return 403
    if (RequestState(state), action) not in TRANSITIONS:
        return 409
    if state == "returned" and action is RequestAction.SUBMIT:
        return 409  # the chair's questions are not answered yet
    return 201 if action is RequestAction.RENEW else 200


@pytest.fixture
def api(demo: DemoInstance) -> Iterator[Api]:
    with demo.app.test_client() as client:
        yield Api(demo, client)


@pytest.mark.parametrize("state", [state.value for state in RequestState])
def test_every_action_by_every_persona(api: Api, demo: DemoInstance, state: str) -> None:
    for action in HTTP_ACTIONS:
        request_id = api.bring_to(state)
        body = None
        if action is RequestAction.ANSWER:
            questions = api.get("researcher", f"/requests/{request_id}").get_json()["questions"]
            body = {"answers": {str(q["id"]): "Liver and lung." for q in questions}
                    or {"1": "Liver and lung."}}
        current = state
        ordered = sorted(PERSONAS, key=lambda p: expected_status(state, action, p) < 300)
        for persona in ordered:
            expected = expected_status(current, action, persona)
            before = events_of(demo, ACTION_EVENTS[action])
            refused_before = events_of(demo, "request:refused")
            answer = api.act(persona, request_id, action, body, expect=expected)
            after = events_of(demo, ACTION_EVENTS[action])
            if expected >= 300:
                assert after == before, (state, action, persona)
                assert answer["error"]["code"] != "internal_error"
                if expected == 409:
                    assert current in answer["error"]["message"] or \
                        answer["error"]["details"]["state"] == current
                if expected == 403:
                    assert events_of(demo, "request:refused") == refused_before + 1
                continue
            assert after == before + 1, (state, action, persona)
            if action is RequestAction.RENEW:
                assert answer["state"] == "draft" and answer["renewal_of_id"] == request_id
                assert api.state(request_id) == current  # the old request runs on
                continue
            target = TRANSITIONS[(RequestState(current), action)]
            assert RequestState(answer["state"]) in {target.target, *target.also}
            current = answer["state"]


def test_matrix_covers_every_transition_in_the_table() -> None:
    """Every (state, action) of the table is tried by its party somewhere in the matrix."""
    reached = {
        (RequestState(state), action)
        for state in RequestState for action in HTTP_ACTIONS for persona in PERSONAS
        if expected_status(state.value, action, persona) < 300
    }
    expected = {key for key in TRANSITIONS if key[1] is not RequestAction.EXPIRE}
    assert expected - reached == {(RequestState.RETURNED, RequestAction.SUBMIT)}


def test_resubmission_after_answering_goes_back_to_the_signing_official(
    api: Api, demo: DemoInstance,
) -> None:
    request_id = api.bring_to("returned")
    refused = api.act("researcher", request_id, "submit", expect=409)
    assert refused["error"]["details"]["unanswered_question_ids"]
    questions = api.get("researcher", f"/requests/{request_id}").get_json()["questions"]
    assert [q["question"] for q in questions] == ["Which tissues will you analyse?"]
    api.act("researcher", request_id, "answer",
            {"answers": {str(questions[0]["id"]): "Liver and lung."}})
    api.act("researcher", request_id, "revise", {"non_technical_summary": "Ageing and genes."})
    resubmitted = api.act("researcher", request_id, "submit")
    assert resubmitted["state"] == "submitted" and resubmitted["review_round"] == 2
    assert resubmitted["questions"][0]["answer"] == "Liver and lung."
    assert resubmitted["non_technical_summary"] == "Ageing and genes."
    # The committee cannot act before the signing official endorses again.
    api.act("dac-chair", request_id, "approve", expect=409)
    api.act("signing-official", request_id, "endorse")
    assert api.act("dac-chair", request_id, "approve")["state"] == "approved"


def test_declined_request_comes_back_with_the_reason(api: Api) -> None:
    request_id = api.bring_to("submitted")
    declined = api.act("signing-official", request_id, "decline")
    assert declined["state"] == "returned"
    assert declined["questions"][0]["question"] == "No IRB approval attached."
    assert declined["questions"][0]["committee_id"] is None


def test_committee_sees_nothing_before_endorsement(api: Api) -> None:
    request_id = api.bring_to("submitted")
    assert api.get("dac-member", f"/requests/{request_id}").status_code == 404
    queue = api.get("dac-member", "/requests?scope=review").get_json()["requests"]
    assert request_id not in [r["id"] for r in queue]
    pending = api.get("signing-official", "/requests?scope=endorse").get_json()["requests"]
    assert request_id in [r["id"] for r in pending]
    api.act("signing-official", request_id, "endorse")
    queue = api.get("dac-member", "/requests?scope=review").get_json()["requests"]
    assert request_id in [r["id"] for r in queue]
    pending = api.get("signing-official", "/requests?scope=endorse").get_json()["requests"]
    assert request_id not in [r["id"] for r in pending]


def test_signing_official_of_another_institution_cannot_endorse(
    api: Api, client: FlaskClient,
) -> None:
    """researcher2 holds the role for another institution: the request stays invisible."""
    del client
    from sqlalchemy import select

    from access.identity.actor import Actor
    from access.identity.models import Role, User
    from access.roles import ensure_role

    factory = api.demo.app.extensions["custodian.session_factory"]
    with factory.begin() as session:
        other = session.scalars(select(User).where(User.subject == "dac-member")).one()
        elsewhere = factories.institution_named(session, api.demo.clock.now(),
                                                "Another University")
        ensure_role(session, Actor(user=None), other, Role.SIGNING_OFFICIAL,
                    institution=elsewhere, now=api.demo.clock.now())
    request_id = api.bring_to("submitted")
    assert api.act("dac-member", request_id, "endorse", expect=404)["error"]["code"] == \
        "not_found"
    assert api.state(request_id) == "submitted"


@pytest.fixture
def client(demo: DemoInstance) -> Iterator[FlaskClient]:
    with demo.app.test_client() as test_client:
        yield test_client
