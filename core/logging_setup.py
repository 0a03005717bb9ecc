"""One log handler for the whole process: JSON lines for log shippers, or text for people.

Every line made while a request is handled names its request id, the same id the response
carries and the audit event records, so one id finds the log lines of one request.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from flask import has_request_context

from config.settings import LogFormat
from core.web.request_id import current_request_id

_HANDLER_NAME = "custodian"
# HTTP plumbing: their DEBUG and INFO lines say nothing about the service, and urllib3's
# DEBUG lines carry whole request URLs.
_QUIET_LIBRARIES = ("authlib", "urllib3")
# gunicorn's own loggers do not propagate; their handlers get our format instead.
_GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")


def install(log_format: LogFormat) -> None:
    """Route the root logger to stderr in the chosen format, replacing what a previous call set."""
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    root = logging.getLogger()
    for previous in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(previous)
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in _GUNICORN_LOGGERS:
        for gunicorn_handler in logging.getLogger(name).handlers:
            gunicorn_handler.setFormatter(formatter)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a traceback is a string field, never extra lines."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id()
        if request_id is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = _request_id()
        return line if request_id is None else f"{line} [request {request_id}]"


class _StderrHandler(logging.Handler):
    """Writes to sys.stderr as it is at each line: a stream swapped later (tests) is followed."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # logging must never take the request down with it
            self.handleError(record)


def _request_id() -> str | None:
    return current_request_id() if has_request_context() else None
