"""Pages of data-access requests for every role: mine and shared, the new-request form,
one request with the actions open to me, and a committee's queue.

This file lists every page URL of requests; the JSON API is in api.py.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from access.committees import get_committee, list_committees
from access.duo.match import ResearchPurpose, match_request
from access.extensions import dataset_directory, request_collaborators
from access.identity.current_actor import current_actor
from access.requests import review
from access.requests.actions import action_named, take_action
from access.requests.applicant import (
    committee_ids_of,
    current_questions,
    requests_filed_by,
    requests_shared_with,
)
from access.requests.detail import describe_request, progress_for
from access.requests.endorsement import endorsement_queue
from access.requests.filing import create_request
from access.requests.forms import action_form, request_form, shown
from access.requests.messages import after_action
from access.requests.moves import get_visible_request
from access.requests.review import review_queue
from access.requests.schemas import QUEUE_STATES, CommitteeQueueQuery, RequestIn
from access.requests.timeline import request_timeline
from access.requests.workflow import RequestAction
from core.errors import InvalidInput
from core.schemas import first_problem
from core.web.request_scope import clock, db_session

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
    actor = current_actor()
    session = db_session()
    found = get_visible_request(session, actor, request_id, clock().now())
    dataset_ids = [d.dataset_id for d in found.datasets]
    datasets = dataset_directory().lookup(session, dataset_ids)
    described = describe_request(session, actor, found)
    described["actions"].sort(key=PAGE_ORDER.index)
    # Reviewers (those who see the votes) get the data-use match: a recommendation only.
    matches = (
        None
        if described["votes"] is None
        else match_request(
            dataset_directory().data_use(session, dataset_ids), ResearchPurpose.of(found)
        )
    )
    return render_template(
        "requests/detail.html",
        req=found,
        datasets=datasets,
        matches=matches,
        progress=progress_for(session, actor, found, described["parts"]),
        timeline=request_timeline(session, found.id, deliberating=described["votes"] is not None),
        **described,
        open_questions=[q for q in current_questions(session, found) if found.state == "returned"],
        committee_days={c.id: c.default_approval_days for c in list_committees(session)},
    )


@pages.get("/requests/<int:request_id>/edit")
def edit_request(request_id: int) -> str:
    actor = current_actor()
    found = get_visible_request(db_session(), actor, request_id, clock().now())
    return render_template("requests/edit.html", req=found, form=found, errors={})


@pages.post("/requests/<int:request_id>/<action>")
def act_on_request(request_id: int, action: str) -> Response:
    chosen = action_named(action)
    try:
        data = chosen.body().load(action_form(action, request.form))
    except ValidationError as exc:
        flash(f"Not done: {first_problem(exc.messages)}", "error")
        return redirect(f"/requests/{request_id}")
    moved = take_action(
        db_session(),
        current_actor(),
        request_id,
        action,
        data,
        now=clock().now(),
        collaborators=request_collaborators(),
    )
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
