"""Redirect targets, audit hashing rules: small pure pieces with sharp edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from audit.log.chain import canonical_bytes, format_timestamp
from core.web.security import safe_next_path


@pytest.mark.parametrize("candidate", [
    None, "", "https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)",
    "evil.example/path", "/ok\r\nSet-Cookie: x", "\\\\evil",
])
def test_unsafe_next_falls_back_to_home(candidate: str | None) -> None:
    assert safe_next_path(candidate) == "/"


@pytest.mark.parametrize("candidate", ["/", "/requests", "/datasets/1?tab=files"])
def test_local_paths_are_kept(candidate: str) -> None:
    assert safe_next_path(candidate) == candidate


@pytest.mark.parametrize("candidate", [
    "/auth/login", "/auth/login?next=/requests", "/dev-idp/authorize?client_id=x&state=y",
])
def test_pages_of_the_sign_in_itself_are_never_a_next_page(candidate: str) -> None:
    """Coming back to a spent sign-in page after signing in ended on an error page."""
    assert safe_next_path(candidate) == "/"


def fields(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "seq": 1, "occurred_at": datetime(2026, 1, 1, 12, 0, 0, 5, tzinfo=UTC),
        "action": "auth:login", "outcome": "success", "actor_user_id": 1,
        "actor_issuer": "https://idp", "actor_subject": "s", "actor_token_id": None,
        "ip": "127.0.0.1", "user_agent": "ua", "request_id": "r", "target_type": "user",
        "target_id": "1", "details": {"b": 1, "a": "é"},
    }
    return base | changes


def test_timestamps_have_one_spelling_whatever_the_zone() -> None:
    moment = datetime(2026, 1, 1, 12, 0, 0, 5, tzinfo=UTC)
    shifted = moment.astimezone(timezone(timedelta(hours=2)))
    assert format_timestamp(moment) == format_timestamp(shifted) == "2026-01-01T12:00:00.000005Z"


def test_canonical_encoding_is_independent_of_key_order() -> None:
    reordered = dict(reversed(list(fields().items())))
    reordered["details"] = {"a": "é", "b": 1}
    assert canonical_bytes(reordered) == canonical_bytes(fields())
    assert b'"a":"\xc3\xa9"' in canonical_bytes(fields())


def test_access_log_lines_lose_their_query_strings() -> None:
    import logging

    from core.log_redaction import QueryStringRedactor

    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '%s - - [x] "%s" %s -',
        ("127.0.0.1", "GET /storage/a.vcf.gz?expires=1&user=2&signature=abc HTTP/1.1", "200"),
        None,
    )
    QueryStringRedactor().filter(record)
    line = record.getMessage()
    assert "signature" not in line and "abc" not in line
    assert '"GET /storage/a.vcf.gz?[redacted] HTTP/1.1" 200' in line


def test_coloured_access_log_lines_are_redacted_too() -> None:
    import logging

    from core.log_redaction import QueryStringRedactor

    message = ('127.0.0.1 - - [x] '
               '"\x1b[31m\x1b[1mGET /auth/callback?code=SECRET&state=S HTTP/1.1\x1b[0m" 400 -')
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, message, None, None)
    QueryStringRedactor().filter(record)
    assert "SECRET" not in record.getMessage()
    assert "/auth/callback?[redacted]" in record.getMessage()
