"""Response headers and redirect targets: web basics every page gets."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response


def install(app: Flask) -> None:
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # Signed download URLs must never travel onward in a Referer header.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    )
    return response


def safe_next_path(candidate: str | None, default: str = "/") -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash trick."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    if any(ch in candidate for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate
