"""The auditors' pages: verification, search, one event, access reports, the downloads
chart, alerts.

This file lists every page URL of the package; the JSON API is in search_api.py. Pages
only read, but for the check an auditor runs from the verification page, which is
recorded; the export links lead to the API, where each export is recorded too. Every page
names the people, datasets and files it shows (``Names``), in one query per kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request
from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response

from audit.extensions import audit_directory, checkpoint_signer, current_reader
from audit.integrity.checkpoints import CheckpointSigner
from audit.log.actions import AuditAction, Outcome
from audit.log.models import AuditEvent
from audit.review import reports, verification
from audit.review.downloads_chart import SERIES, downloads_chart
from audit.review.names import Names
from audit.review.schemas import (
    AlertOut,
    AlertSearchIn,
    DownloadsIn,
    EventOut,
    EventPageSearchIn,
    PeriodIn,
    ReportChoiceIn,
)
from audit.review.search import EventFilter, get_event, search_alerts, search_events
from core.web.request_scope import clock, db_session

pages = Blueprint("audit", __name__, template_folder="templates")
event_out = EventOut()
Page = str | tuple[str, int]


@pages.get("/audit/verification")
def verification_page() -> str:
    status = verification.verification_status(db_session(), current_reader())
    signer: CheckpointSigner = checkpoint_signer()
    return render_template("audit/verification.html", status=status, signer=signer,
                           page_limit=verification.PAGE_CHECK_EVENTS,
                           names=_names_of([status.last_check] if status.last_check else []))


@pages.post("/audit/verification")
def run_check() -> Response:
    """The check button (a form, so it works without JavaScript); the result is recorded,
    and shown after the redirect."""
    report, outcome = verification.run_check(db_session(), current_reader(),
                                             checkpoint_signer(), clock().now())
    if outcome == Outcome.DENIED:
        flash(f"Not checked: {report.problem}.", "error")
    elif report.ok and report.checkpoints_checked:
        flash(f"Intact: events {report.from_size + 1} to {report.to_size} and "
              f"{report.checkpoints_checked} checkpoint(s) verified.", "success")
    elif report.ok:
        flash(f"Intact: no checkpoint was signed after event {report.to_size}, the last one "
              "verified, so there was nothing new to check.", "success")
    else:
        flash(f"FAILED: {report.problem}", "error")
    return redirect("/audit/verification", code=303)


@pages.get("/audit")
def search() -> Page:
    reader = current_reader()
    query, errors = _parse(EventPageSearchIn())
    page, people = None, None
    if "person" in query:  # a person typed: their events if one matches, else the matches
        people = audit_directory().find_users(db_session(), query.pop("person"), limit=20)
        if len(people) == 1:
            query["user"] = people[0].id
    if not errors and (people is None or len(people) == 1):
        limit = query.pop("limit")
        page = search_events(db_session(), reader, EventFilter(**query), limit=limit)
    names = _names_of(page.events if page else [], extra=[("user", query.get("user"))])
    return _render("audit/search.html", errors, page=page, form=request.args, names=names,
                   people=people, person_query=_query_without("person", "user", "before"),
                   chosen_user=query.get("user"),
                   actions=sorted(AuditAction), outcomes=list(Outcome),
                   datasets=audit_directory().datasets(db_session()),
                   next_query=_query_without("before"),
                   export_query=_query_without("before", "limit"))


@pages.get("/audit/events/<int:seq>")
def show_event(seq: int) -> str:
    session = db_session()
    event = get_event(session, current_reader(), seq)
    return render_template("audit/event.html", event=event, record=event_out.dump(event),
                           names=_names_of([event]),
                           covered_by=verification.covering_checkpoint(session, seq))


@pages.get("/audit/reports")
def choose_report() -> Page | Response:
    """The report form: send the auditor on to the report they asked for."""
    current_reader()
    session = db_session()
    datasets = audit_directory().datasets(session)
    if not request.args:
        return render_template("audit/report_choice.html", errors={}, form={},
                               datasets=datasets, matches=None)
    query, errors = _parse(ReportChoiceIn())
    if errors:
        return _render("audit/report_choice.html", errors, form=request.args,
                       datasets=datasets, matches=None)
    period = urlencode({k: request.args[k] for k in ("since", "until") if request.args.get(k)})
    if "id" in query:
        chosen = query["id"]
    elif query["kind"] == "dataset":
        chosen = query["dataset"]
    else:  # a person typed: their report if one matches, else the matches to pick from
        matches = audit_directory().find_users(session, query["user"], limit=20)
        if len(matches) != 1:
            return render_template("audit/report_choice.html", errors={}, form=request.args,
                                   datasets=datasets, matches=matches, period=period)
        chosen = matches[0].id
    return redirect(f"/audit/reports/{query['kind']}/{chosen}" + (f"?{period}" if period else ""))


@pages.get("/audit/reports/dataset/<int:dataset_id>")
def dataset_report(dataset_id: int) -> Page:
    reader = current_reader()
    name = _names_of([], extra=[("dataset", dataset_id)]).label("dataset", dataset_id)
    if name is None:
        return _no_such("dataset", dataset_id)
    query, errors = _parse(PeriodIn())
    report = None if errors else reports.dataset_access_report(
        db_session(), reader, dataset_id, _period(query))
    return _render("audit/report.html", errors, report=report, form=request.args,
                   names=_names_of(report.rows if report else []),
                   heading=f"{name}: who received which files", by="dataset")


@pages.get("/audit/reports/user/<int:user_id>")
def user_report(user_id: int) -> Page:
    reader = current_reader()
    name = _names_of([], extra=[("user", user_id)]).label("user", user_id)
    if name is None:
        return _no_such("user", user_id)
    query, errors = _parse(PeriodIn())
    report = None if errors else reports.user_access_report(
        db_session(), reader, user_id, _period(query))
    return _render("audit/report.html", errors, report=report, form=request.args,
                   names=_names_of(report.rows if report else []),
                   heading=f"{name}: which files they received", by="user")


@pages.get("/audit/downloads")
def downloads() -> Page:
    reader = current_reader()
    query, errors = _parse(DownloadsIn())
    days = None if errors else reports.downloads_per_day(
        db_session(), reader, _period(query), dataset_id=query.get("dataset"))
    return _render("audit/downloads.html", errors, days=days, form=request.args,
                   datasets=audit_directory().datasets(db_session()),
                   chart=downloads_chart(days) if days else None, series=SERIES)


@pages.get("/audit/alerts")
def alerts() -> Page:
    reader = current_reader()
    query, errors = _parse(AlertSearchIn())
    page = None if errors else search_alerts(db_session(), reader, **query)
    alerted = AlertOut().dump(page.events, many=True) if page else []
    return _render("audit/alerts.html", errors, page=page, alerts=alerted,
                   names=_names_of([], extra=[("user", a["subject"]) for a in alerted
                                              if a["subject_type"] == "user"]),
                   form=request.args, next_query=_query_without("before"))


def _names_of(rows: Sequence[AuditEvent | reports.Receipt],
              extra: Iterable[tuple[str, int | str | None]] = ()) -> Names:
    """The names of the actors, targets, datasets and files in these rows."""
    wanted = list(extra)
    for row in rows:
        if isinstance(row, AuditEvent):
            wanted += [("user", row.actor_user_id), (row.target_type or "", row.target_id),
                       ("dataset", row.dataset_id), ("file", row.file_id)]
        else:
            wanted += [("user", row.user_id), ("dataset", row.dataset_id),
                       ("file", row.file_id)]
    return Names.of(db_session(), audit_directory(), wanted)


def _no_such(kind: str, number: int) -> tuple[str, int]:
    """A report on nothing: say so, rather than "nobody received a file"."""
    return render_template("audit/no_such.html", kind=kind, number=number), 404


def _parse(schema: Schema) -> tuple[dict[str, Any], dict[str, Any]]:
    """The query's values, or the problems to show next to the form (then a 400)."""
    try:
        loaded: dict[str, Any] = schema.load(request.args.to_dict(flat=True))
    except ValidationError as exc:
        return {}, exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return loaded, {}


def _render(template: str, errors: dict[str, Any], **context: Any) -> Page:
    html = render_template(template, errors=errors, **context)
    return (html, 400) if errors else html


def _period(query: dict[str, Any]) -> reports.Period:
    return reports.Period.around(query.get("since"), query.get("until"), clock().now())


def _query_without(*names: str) -> str:
    """The current filters as a query string, for the next-page and export links."""
    return urlencode([(k, v) for k, v in request.args.items(multi=True)
                      if v and k not in names])
