"""Response headers and redirect targets: web basics every page gets."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app

_FORM_TARGETS = "custodian.form_targets"
# Two years, subdomains included: what browsers' preload lists ask for.
HSTS = "max-age=63072000; includeSubDomains"
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), "
                      "magnetometer=(), microphone=(), payment=(), usb=(), "
                      "interest-cohort=()")


def install(app: Flask, *, https_only: bool) -> None:
    """``https_only``: the service is served over HTTPS (everywhere but the demo), so
    browsers are told never to reach it over plain HTTP."""
    app.extensions[_FORM_TARGETS] = ["'self'"]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # One pass over the headers a view set, instead of a search per header: this runs
        # on every answer, the hottest API calls included.
        present = {name.lower() for name, _value in headers}
        headers.extend([
            (name, value) for name, value in _security_headers_for(https_only)
            if name.lower() not in present
        ])
        # The server in front writes the one Date; Werkzeug's ranges add a second.
        if "date" in present:
            del headers["Date"]
        return response


def _security_headers_for(https_only: bool) -> list[tuple[str, str]]:
    """What every answer carries unless its view set its own."""
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        # Signed download URLs must never travel onward in a Referer header.
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", _content_security_policy()),
        ("Permissions-Policy", PERMISSIONS_POLICY),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        # Pages and answers are about someone: no shared or browser cache keeps them.
        # Static files and anything else that may be cached set their own.
        ("Cache-Control", "no-store"),
    ]
    if https_only:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def allow_form_target(app: Flask, origin: str) -> None:
    """A site our forms may lead to (the object store a download button redirects to)."""
    app.extensions[_FORM_TARGETS].append(origin)


def _content_security_policy() -> str:
    targets = " ".join(current_app.extensions[_FORM_TARGETS])
    return ("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
            f"form-action {targets}; base-uri 'none'; object-src 'none'")


# Pages of the sign-in itself: coming back to one after signing in would start it again
# (or find its one-time state spent), so the user goes to the default instead.
SIGN_IN_PATHS = ("/auth/", "/dev-idp/")


def safe_next_path(candidate: str | None, default: str = "/") -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash trick,
    and not a page of the sign-in itself."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    if candidate.startswith(SIGN_IN_PATHS):
        return default
    if any(ch in candidate for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate
