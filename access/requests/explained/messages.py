"""What the pages tell a person after an action on a request: what happened and what comes
next, in plain words (the API answers with the request itself instead)."""

from __future__ import annotations

from access.requests.models import AccessRequest
from access.requests.workflow import RequestAction, RequestState
from core.web.confirmation import Confirmation

A = RequestAction


def after_action(action: RequestAction, moved: AccessRequest, *, acted_on: int) -> str:
    whole = moved.state in (RequestState.APPROVED.value, RequestState.REJECTED.value)
    official = (
        "the signing official of " + moved.applicant.institution.name
        if moved.applicant.institution
        else "a signing official"
    )
    messages = {
        A.SUBMIT: f"Your request is submitted. It now waits for {official}, who endorses or "
        "declines it; you will get an email when they have.",
        A.REVISE: "Your changes are saved.",
        A.ANSWER: "Your answers are saved. Submit the request again when it is ready.",
        A.WITHDRAW: "The request is withdrawn. Nobody will review it any further.",
        A.ENDORSE: "You endorsed the request. It now goes to the data-access committee.",
        A.DECLINE: "You declined the request. It went back to the applicant with your reason.",
        A.VOTE: "Your vote is recorded. The chair decides once the committee has voted.",
        A.DECLARE_CONFLICT: "Your conflict of interest is recorded. You will neither vote "
        "nor decide on this request.",
        A.APPROVE: "The request is approved and the applicant is told. They can download "
        "once they accept the data-use agreement."
        if whole
        else "Your committee's part is approved. The request waits for the other committees.",
        A.REJECT: "The request is rejected and the applicant is told, with your reason."
        if whole
        else "Your committee's part is rejected. The request waits for the other committees.",
        A.RETURN: "The request went back to the applicant with your questions.",
        A.REVOKE: "Access is revoked: every grant of this request ended now, and the "
        "holders are told.",
        A.CLOSE: "The project is closed out and access has ended. Thank you.",
        A.RENEW: f"Renewal request {moved.id} is drafted from request {acted_on}. Check it "
        "and submit it.",
        A.ACCEPT: "You joined the request. Accept the data-use agreement to download.",
    }
    return messages.get(action, "Done.")


def confirmation_for(action: RequestAction, request_id: int) -> Confirmation | None:
    """The question asked before an action that cannot be undone; None: no question."""
    asked = {
        A.REJECT: Confirmation(
            f"Reject request {request_id}?",
            "The applicant is told at once, with your reason. A rejected request cannot be "
            "reopened: they would have to file a new one.",
            "Yes, reject it",
        ),
        A.WITHDRAW: Confirmation(
            f"Withdraw request {request_id}?",
            "Nobody will review it any further, and it cannot be reopened: you would have to "
            "file a new request.",
            "Yes, withdraw it",
        ),
        A.CLOSE: Confirmation(
            f"Close out request {request_id}?",
            "Your access and your collaborators' access end now, for good, and you attest "
            "that every copy of the data was destroyed.",
            "Yes, close it out",
        ),
        A.REVOKE: Confirmation(
            f"Revoke access for request {request_id}?",
            "Every grant of this request ends now: downloads stop on the next request and "
            "the holders are told. This cannot be undone.",
            "Yes, revoke access",
        ),
    }
    return asked.get(action)
