"""The auditors' pages: search, one event, access reports, the downloads chart, alerts.

This file lists every page URL of the package; the JSON API is in search_api.py. Pages
only read: the export links lead to the API, where each export is recorded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request
from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response

from audit.extensions import current_reader
from audit.log.actions import AuditAction, Outcome
from audit.review import reports
from audit.review.downloads_chart import SERIES, downloads_chart
from audit.review.schemas import (
    AlertOut,
    AlertSearchIn,
    DownloadsIn,
    EventOut,
    EventSearchIn,
    PeriodIn,
    ReportChoiceIn,
)
from audit.review.search import EventFilter, get_event, search_alerts, search_events
from core.web.request_scope import clock, db_session

pages = Blueprint("audit", __name__, template_folder="templates")
event_out = EventOut()
Page = str | tuple[str, int]


@pages.get("/audit")
def search() -> Page:
    reader = current_reader()
    query, errors = _parse(EventSearchIn())
    page = None
    if not errors:
        limit = query.pop("limit")
        page = search_events(db_session(), reader, EventFilter(**query), limit=limit)
    return _render("audit/search.html", errors, page=page, form=request.args,
                   actions=sorted(AuditAction), outcomes=list(Outcome),
                   next_query=_query_without("before"),
                   export_query=_query_without("before", "limit"))


@pages.get("/audit/events/<int:seq>")
def show_event(seq: int) -> str:
    event = get_event(db_session(), current_reader(), seq)
    return render_template("audit/event.html", event=event, record=event_out.dump(event))


@pages.get("/audit/reports")
def choose_report() -> Page | Response:
    """The report form: send the auditor on to the report they asked for."""
    current_reader()
    if not request.args:
        return render_template("audit/report_choice.html", errors={}, form={})
    query, errors = _parse(ReportChoiceIn())
    if errors:
        return _render("audit/report_choice.html", errors, form=request.args)
    period = urlencode({k: request.args[k] for k in ("since", "until") if request.args.get(k)})
    return redirect(f"/audit/reports/{query['kind']}/{query['id']}?{period}")


@pages.get("/audit/reports/dataset/<int:dataset_id>")
def dataset_report(dataset_id: int) -> Page:
    reader = current_reader()
    query, errors = _parse(PeriodIn())
    report = None if errors else reports.dataset_access_report(
        db_session(), reader, dataset_id, _period(query))
    return _render("audit/report.html", errors, report=report, form=request.args,
                   heading=f"Dataset {dataset_id}: who received which files", by="dataset")


@pages.get("/audit/reports/user/<int:user_id>")
def user_report(user_id: int) -> Page:
    reader = current_reader()
    query, errors = _parse(PeriodIn())
    report = None if errors else reports.user_access_report(
        db_session(), reader, user_id, _period(query))
    return _render("audit/report.html", errors, report=report, form=request.args,
                   heading=f"User {user_id}: which files they received", by="user")


@pages.get("/audit/downloads")
def downloads() -> Page:
    reader = current_reader()
    query, errors = _parse(DownloadsIn())
    days = None if errors else reports.downloads_per_day(
        db_session(), reader, _period(query), dataset_id=query.get("dataset"))
    return _render("audit/downloads.html", errors, days=days, form=request.args,
                   chart=downloads_chart(days) if days else None, series=SERIES)


@pages.get("/audit/alerts")
def alerts() -> Page:
    reader = current_reader()
    query, errors = _parse(AlertSearchIn())
    page = None if errors else search_alerts(db_session(), reader, **query)
    return _render("audit/alerts.html", errors, page=page,
                   alerts=AlertOut().dump(page.events, many=True) if page else [],
                   form=request.args, next_query=_query_without("before"))


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
