"""Pages of data-access requests for every role: mine and shared, the new-request form,
one request with the actions open to me, a committee's queue, and every request for admins.

This file lists every page URL of requests; the JSON API is in api.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from access import roles
from access.committees import get_committee, list_committees
from access.duo.match import ResearchPurpose, match_request
from access.extensions import dataset_directory, request_collaborators
from access.identity.current_actor import current_actor
from access.requests import review
from access.requests.actions import action_named, take_action
from access.requests.admin_list import RequestFilter, list_all_requests
from access.requests.applicant import (
    committee_ids_of,
    current_questions,
    requests_filed_by,
    requests_shared_with,
)
from access.requests.endorsement import endorsement_queue
from access.requests.explained.detail import describe_request, progress_for, tally_of
from access.requests.explained.messages import after_action, confirmation_for
from access.requests.explained.my_work import work_for
from access.requests.explained.timeline import latest_endorsement, request_timeline
from access.requests.filing import create_request
from access.requests.forms import action_form, request_form, shown
from access.requests.moves import check_move, get_visible_request
from access.requests.review import review_queue
from access.requests.schemas import QUEUE_STATES, AdminRequestQuery, CommitteeQueueQuery, RequestIn
from access.requests.workflow import RequestAction, RequestState
from core.errors import Conflict, InvalidInput
from core.web.confirmation import FIELD as CONFIRMED
from core.web.confirmation import confirmation_page, is_confirmed
from core.web.request_scope import clock, db_session, rollback_if_open

pages = Blueprint("requests", __name__, template_folder="templates")
# The order a person meets the actions in: answer the questions before resubmitting, the
# everyday actions before the final ones.
PAGE_ORDER = [
    "answer",
    "revise",
    "submit",
    "accept",
    "endorse",
    "decline",
    "vote",
    "declare-conflict",
    "approve",
    "reject",
    "return",
    "renew",
    "close",
    "revoke",
    "withdraw",
]


@pages.app_context_processor
def _header_count() -> dict[str, object]:
    return {"my_work_count": _waiting_count}


def _waiting_count() -> int:
    """For the header: asked only on pages whose header shows a signed-in user."""
    actor = current_actor()
    return (
        work_for(db_session(), actor, clock().now(), directory=dataset_directory()).count
        if actor.user
        else 0
    )


@pages.get("/work")
def my_work() -> str:
    """Where everyone lands after signing in: what waits for them, whatever their roles."""
    actor = current_actor()
    actor.require_user()
    return render_template(
        "requests/my_work.html",
        work=work_for(db_session(), actor, clock().now(), directory=dataset_directory()),
    )


@pages.get("/requests")
def my_requests() -> str:
    actor = current_actor()
    session, now = db_session(), clock().now()
    user = actor.require_user()
    return render_template(
        "requests/list.html",
        filed=requests_filed_by(session, actor, now),
        shared=requests_shared_with(session, actor, now),
        endorse=endorsement_queue(session, actor),
        queue=review_queue(session, actor),
        committees=[
            c for c in list_committees(session) if c.id in committee_ids_of(session, user.id)
        ],
    )


@pages.route("/requests/new", methods=["GET", "POST"])
def new_request() -> Response | tuple[str, int] | str:
    actor = current_actor()
    actor.require_user()
    choices = dataset_directory().requestable(db_session())
    if request.method == "GET":
        wanted = [int(i) for i in request.args.getlist("dataset") if i.isdigit()]
        return render_template(
            "requests/new.html", choices=choices, form={"dataset_ids": wanted}, errors={}
        )
    form = request_form(request.form, with_datasets=True)
    try:
        data = RequestIn().load(form)
    except ValidationError as exc:
        return render_template(
            "requests/new.html", choices=choices, form=shown(form), errors=exc.messages
        ), 400
    created = create_request(
        db_session(), actor, directory=dataset_directory(), now=clock().now(), **data
    )
    flash("Request saved as a draft. Submit it when it is ready.", "success")
    return redirect(f"/requests/{created.id}")


@pages.get("/requests/<int:request_id>")
def show_request(request_id: int) -> str:
    return _request_page(request_id)


def _request_page(
    request_id: int,
    *,
    errors: Mapping[str, Any] | None = None,
    typed: Mapping[str, Any] | None = None,
) -> str:
    """The request as this reader may see it; after a refused form, with that form's
    problems beside its fields and what was typed kept (both keyed by the form's action)."""
    actor = current_actor()
    session = db_session()
    found = get_visible_request(session, actor, request_id, clock().now())
    dataset_ids = [d.dataset_id for d in found.datasets]
    datasets = dataset_directory().lookup(session, dataset_ids)
    described = describe_request(session, actor, found)
    described["actions"].sort(key=PAGE_ORDER.index)
    votes = described["votes"]
    # Reviewers (those who see the votes) get the data-use match: a recommendation only.
    matches = (
        None
        if votes is None
        else match_request(
            dataset_directory().data_use(session, dataset_ids), ResearchPurpose.of(found)
        )
    )
    open_questions = current_questions(session, found) if found.state == "returned" else []
    return render_template(
        "requests/detail.html",
        req=found,
        datasets=datasets,
        matches=matches,
        progress=progress_for(session, actor, found, described["parts"]),
        timeline=request_timeline(session, found.id, deliberating=votes is not None),
        tally=None if votes is None else tally_of(session, actor, found, votes),
        endorsement=None if votes is None else latest_endorsement(session, found.id),
        open_questions=open_questions,
        unanswered=[q for q in open_questions if not q.answer],
        committee_days={c.id: c.default_approval_days for c in list_committees(session)},
        errors=errors or {},
        typed=typed or {},
        **described,
    )


@pages.get("/requests/<int:request_id>/edit")
def edit_request(request_id: int) -> str:
    actor = current_actor()
    found = get_visible_request(db_session(), actor, request_id, clock().now())
    return render_template("requests/edit.html", req=found, form=found, errors={})


# The chair's one decision form: which fields each choice reads.
DECISION_FIELDS = {"approve": ("reason", "days"), "reject": ("reason",), "return": ("questions",)}


@pages.post("/requests/<int:request_id>/decide")
def decide_on_request(request_id: int) -> Response | tuple[str, int] | str:
    """Approve with a period, reject, or return with questions: one choice, no default."""
    form = request.form
    decision = form.get("decision", "")
    if decision not in DECISION_FIELDS:
        return _request_page(
            request_id,
            errors={
                "decide": {"decision": ["Choose one: approve, reject or return with questions."]}
            },
            typed={"decide": form.to_dict()},
        ), 400
    fields = MultiDict([(name, form.get(name, "")) for name in DECISION_FIELDS[decision]])
    return _act(request_id, decision, fields, form_name="decide", typed=form.to_dict())


@pages.post("/requests/<int:request_id>/<action>")
def act_on_request(request_id: int, action: str) -> Response | tuple[str, int] | str:
    fields = MultiDict(
        [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", CONFIRMED)]
    )
    return _act(request_id, action, fields, form_name=action, typed=request.form.to_dict())


def _act(
    request_id: int,
    action: str,
    fields: MultiDict[str, str],
    *,
    form_name: str,
    typed: dict[str, str],
) -> Response | tuple[str, int] | str:
    chosen = action_named(action)
    try:
        data = chosen.body().load(action_form(action, fields))
    except ValidationError as exc:
        if action == RequestAction.REVISE:  # its form is on the edit page: back there
            found = get_visible_request(db_session(), current_actor(), request_id, clock().now())
            return render_template(
                "requests/edit.html", req=found, form=typed, errors=exc.messages
            ), 400
        return _request_page(
            request_id, errors={form_name: exc.messages}, typed={form_name: typed}
        ), 400
    session, now = db_session(), clock().now()
    asked = confirmation_for(RequestAction(action), request_id)
    if asked is not None and not is_confirmed(request.form):
        # Only the party who could act is asked; anyone else gets the refusal now.
        check_move(session, current_actor(), request_id, RequestAction(action), now)
        return confirmation_page(
            asked,
            action_url=f"/requests/{request_id}/{action}",
            back_url=f"/requests/{request_id}",
            fields=fields.to_dict(),
        )
    try:
        moved = take_action(
            session,
            current_actor(),
            request_id,
            action,
            data,
            now=now,
            collaborators=request_collaborators(),
        )
    except (InvalidInput, Conflict) as exc:
        if exc.refusal is not None:
            raise  # audited by the one error handler
        rollback_if_open()  # nothing of the refused action stays
        status = 409 if isinstance(exc, Conflict) else 400
        return _request_page(
            request_id, errors={form_name: {"_schema": [exc.message]}}, typed={form_name: typed}
        ), status
    flash(after_action(RequestAction(action), moved, acted_on=request_id), "success")
    return redirect(f"/requests/{moved.id if chosen.creates else request_id}")


@pages.get("/committees/<int:committee_id>/queue")
def committee_queue(committee_id: int) -> str:
    actor = current_actor()
    session = db_session()
    try:
        query = CommitteeQueueQuery().load({k: v for k, v in request.args.items() if v != ""})
    except ValidationError as exc:
        raise InvalidInput("Some filters are invalid.", details={"filters": exc.messages}) from None
    found = review.committee_queue(
        session,
        actor,
        committee_id,
        states=query.get("state") or review.REVIEW_STATES,
        dataset_id=query.get("dataset_id"),
        submitted_from=query.get("submitted_from"),
        submitted_to=query.get("submitted_to"),
        now=clock().now(),
    )
    return render_template(
        "requests/committee_queue.html",
        committee=get_committee(session, committee_id),
        requests=found,
        filters=request.args,
        states=QUEUE_STATES,
        datasets=dataset_directory().requestable(session),
    )


@pages.get("/admin/requests")
def admin_requests() -> str | tuple[str, int]:
    """Every request, filtered; a bad filter is shown beside the form, with a 400."""
    actor = current_actor()
    session = db_session()
    errors: dict[str, Any] = {}
    page = None
    try:
        query = AdminRequestQuery().load({k: v for k, v in request.args.items() if v != ""})
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        roles.require_admin(actor, "request_list")
    else:
        before = query.pop("before", None)
        page = list_all_requests(session, actor, RequestFilter(**query), before=before)
    committees = list_committees(session)
    shown_ids = {d.dataset_id for r in (page.requests if page else []) for d in r.datasets}
    html = render_template(
        "requests/admin_requests.html",
        page=page,
        errors=errors,
        filters=request.args,
        states=[s.value for s in RequestState],
        datasets=dataset_directory().requestable(session),
        dataset_names=dataset_directory().lookup(session, shown_ids),
        committees=committees,
        committee_names={c.id: c.name for c in committees},
        next_query=urlencode([(k, v) for k, v in request.args.items() if v and k != "before"]),
    )
    return (html, 400) if errors else html
