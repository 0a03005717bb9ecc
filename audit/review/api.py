"""The auditors' JSON API under /api/v1/audit: search, one event, export, reports, alerts.

Every route first asks who is reading (401 or 403 otherwise), then parses its query. Only
GETs: nothing here changes the log, except the event that records an export.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from audit.extensions import current_reader
from audit.review import reports
from audit.review.schemas import (
    AccessReportOut,
    AlertOut,
    AlertPageOut,
    AlertSearchIn,
    DatasetReportOut,
    DayOut,
    DownloadsIn,
    DownloadsPerDayOut,
    EventOut,
    EventPageOut,
    EventSearchIn,
    ExportIn,
    PeriodIn,
    UserReportOut,
)
from audit.review.search import EventFilter, get_event, search_alerts, search_events
from audit.review.search_export import MEDIA_TYPES, start_export, stream_export
from core.scopes import Scope
from core.web.api import parse_query
from core.web.api_docs import documented
from core.web.request_scope import clock, db_session, session_factory

api = Blueprint("audit_search_api", __name__, url_prefix="/api/v1/audit")
event_out = EventOut()
report_out = AccessReportOut()


@api.get("/events")
@documented("Search the audit log (auditors and admins), newest first, keyset-paged",
            query=EventSearchIn, response=EventPageOut, scope=Scope.AUDIT_READ)
def search() -> Response:
    reader = current_reader()
    query = parse_query(EventSearchIn())
    limit = query.pop("limit")
    page = search_events(db_session(), reader, EventFilter(**query), limit=limit)
    return jsonify({"events": event_out.dump(page.events, many=True), "next": page.next_before})


@api.get("/events/<int:seq>")
@documented("One audit event with its hashes", response=EventOut, scope=Scope.AUDIT_READ)
def show_event(seq: int) -> Response:
    return jsonify(event_out.dump(get_event(db_session(), current_reader(), seq)))


@api.get("/events/export")
@documented("Export matching events as JSON Lines or CSV (recorded)", query=ExportIn,
            scope=Scope.AUDIT_READ, media_types=("application/x-ndjson", "text/csv"))
def export() -> Response:
    """Streamed; the export's audit event commits with this request, before the first byte."""
    reader = current_reader()
    query = parse_query(ExportIn())
    fmt = query.pop("format")
    started = start_export(db_session(), reader, EventFilter(**query), fmt=fmt,
                           now=clock().now())
    return Response(stream_export(session_factory(), started), content_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{started.filename}"',
                             "Cache-Control": "no-store"})


@api.get("/reports/dataset/<int:dataset_id>")
@documented("Who received URLs for, or downloaded, a dataset's files", query=PeriodIn,
            response=DatasetReportOut, scope=Scope.AUDIT_READ)
def dataset_report(dataset_id: int) -> Response:
    reader = current_reader()
    period = _period(parse_query(PeriodIn()))
    report = reports.dataset_access_report(db_session(), reader, dataset_id, period)
    return jsonify({"dataset_id": dataset_id, **report_out.dump(report)})


@api.get("/reports/user/<int:user_id>")
@documented("What one user received and downloaded", query=PeriodIn, response=UserReportOut,
            scope=Scope.AUDIT_READ)
def user_report(user_id: int) -> Response:
    reader = current_reader()
    period = _period(parse_query(PeriodIn()))
    report = reports.user_access_report(db_session(), reader, user_id, period)
    return jsonify({"user_id": user_id, **report_out.dump(report)})


@api.get("/reports/downloads")
@documented("URLs issued and files served per day", query=DownloadsIn,
            response=DownloadsPerDayOut, scope=Scope.AUDIT_READ)
def downloads() -> Response:
    reader = current_reader()
    query = parse_query(DownloadsIn())
    period = _period(query)
    days = reports.downloads_per_day(db_session(), reader, period, dataset_id=query.get("dataset"))
    return jsonify({"dataset_id": query.get("dataset"), "days": DayOut().dump(days, many=True)})


@api.get("/alerts")
@documented("Alerts raised on the log (unusual download volume, refusals)",
            query=AlertSearchIn, response=AlertPageOut, scope=Scope.AUDIT_READ)
def alerts() -> Response:
    reader = current_reader()
    query = parse_query(AlertSearchIn())
    page = search_alerts(db_session(), reader, **query)
    return jsonify({"alerts": AlertOut().dump(page.events, many=True), "next": page.next_before})


def _period(query: dict[str, Any]) -> reports.Period:
    return reports.Period.around(query.get("since"), query.get("until"), clock().now())
