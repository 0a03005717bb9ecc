"""Every action a person takes on a request: the body it reads and the use case it runs.

The JSON API (``POST /api/v1/requests/{id}/{action}``) and the request pages both go
through ``take_action``, so an action means the same from a script and from a page. Each
use case takes the session, the actor, the request id, ``now`` and the body's fields as
keywords; ``takes`` names the collaborators it needs besides. Expiry is the service's
own move and has no entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import Schema
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.ports import DatasetDirectory
from access.requests import after_approval, applicant, endorsement, review
from access.requests.models import AccessRequest
from access.requests.notices import Notices
from access.requests.schemas import (
    AnswerIn,
    ApproveIn,
    CloseIn,
    EndorseIn,
    NoBodyIn,
    ReasonIn,
    RejectIn,
    RenewIn,
    ReturnIn,
    ReviseIn,
    VoteIn,
)
from access.requests.workflow import RequestAction
from core.errors import NotFound


@dataclass(frozen=True)
class Collaborators:
    """What some use cases need besides the session and the actor."""

    directory: DatasetDirectory
    notices: Notices | None


@dataclass(frozen=True)
class Action:
    body: type[Schema]
    use_case: Callable[..., AccessRequest]
    takes: tuple[str, ...] = ()  # names of Collaborators fields, passed as keywords
    creates: bool = False  # the answer is a new, linked request (201), not the one acted on


ACTIONS: Mapping[str, Action] = {
    RequestAction.SUBMIT: Action(NoBodyIn, applicant.submit_request, ("notices",)),
    RequestAction.REVISE: Action(ReviseIn, applicant.revise_request),
    RequestAction.ANSWER: Action(AnswerIn, applicant.answer_questions),
    RequestAction.WITHDRAW: Action(NoBodyIn, applicant.withdraw_request),
    RequestAction.ENDORSE: Action(EndorseIn, endorsement.endorse_request, ("notices",)),
    RequestAction.DECLINE: Action(ReasonIn, endorsement.decline_request, ("notices",)),
    RequestAction.VOTE: Action(VoteIn, review.vote_on_request),
    RequestAction.DECLARE_CONFLICT: Action(ReasonIn, review.declare_conflict),
    RequestAction.APPROVE: Action(ApproveIn, review.approve_request, ("notices",)),
    RequestAction.REJECT: Action(RejectIn, review.reject_request, ("notices",)),
    RequestAction.RETURN: Action(ReturnIn, review.return_request, ("notices",)),
    RequestAction.REVOKE: Action(ReasonIn, after_approval.revoke_request, ("notices",)),
    RequestAction.CLOSE: Action(CloseIn, after_approval.close_request),
    RequestAction.RENEW: Action(RenewIn, after_approval.renew_request, ("directory",),
                                creates=True),
    RequestAction.ACCEPT: Action(NoBodyIn, after_approval.accept_collaboration),
}


def action_named(name: str) -> Action:
    if name not in ACTIONS:
        raise NotFound(f"Unknown action {name!r}.", details={"actions": sorted(ACTIONS)})
    return ACTIONS[name]


def take_action(
    session: Session, actor: Actor, request_id: int, name: str, body: Mapping[str, Any], *,
    now: datetime, collaborators: Collaborators,
) -> AccessRequest:
    """Run action ``name`` with a ``body`` its schema has loaded."""
    action = action_named(name)
    given = {needed: getattr(collaborators, needed) for needed in action.takes}
    return action.use_case(session, actor, request_id, now=now, **body, **given)
