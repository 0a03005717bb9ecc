"""Log lines are one JSON object each, name their request, and keep credentials out."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask

import core.log_redaction
from core.logging_setup import JsonFormatter, TextFormatter, install


def record(message: str = "hello %s", args: tuple[object, ...] = ("world",)) -> logging.LogRecord:
    return logging.LogRecord("custodian.test", logging.WARNING, __file__, 1, message, args, None)


def test_json_line_has_utc_time_level_logger_and_message() -> None:
    line = json.loads(JsonFormatter().format(record()))
    assert set(line) == {"time", "level", "logger", "message"}
    assert datetime.fromisoformat(line["time"]).utcoffset() == UTC.utcoffset(None)
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING", "custodian.test", "hello world")


def test_json_line_names_the_request_it_was_made_in() -> None:
    with Flask(__name__).test_request_context(headers={"X-Request-ID": "req-0123456789"}):
        line = json.loads(JsonFormatter().format(record()))
        text = TextFormatter().format(record())
    assert line["request_id"] == "req-0123456789"
    assert text.endswith("hello world [request req-0123456789]")


def test_exception_is_a_string_field_on_the_same_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record("it failed", ())
        failed.exc_info = sys.exc_info()
    output = JsonFormatter().format(failed)
    assert "\n" not in output
    assert "ValueError: boom" in json.loads(output)["exception"]


@pytest.fixture
def gunicorn_access_log() -> Iterator[io.StringIO]:
    """A handler like the one gunicorn puts on its non-propagating access logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("gunicorn.access")
    logger.addHandler(handler)
    logger.propagate = False
    yield stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_gunicorn_access_lines_become_json_without_query_strings(
    gunicorn_access_log: io.StringIO,
) -> None:
    install("json")
    core.log_redaction.install()
    logging.getLogger("gunicorn.access").info(
        '%(h)s "%(r)s" %(s)s',
        {"h": "10.0.0.1", "r": "GET /auth/callback?code=SECRET&state=S HTTP/1.1", "s": "302"},
    )
    output = gunicorn_access_log.getvalue()
    assert "SECRET" not in output
    assert json.loads(output)["message"] == '10.0.0.1 "GET /auth/callback?[redacted] HTTP/1.1" 302'
