"""A request id on every request: accepted from a proxy when well-formed, else made here."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def install(app: Flask) -> None:
    app.before_request(_assign_before_request)
    app.after_request(_echo)


def current_request_id() -> str:
    request_id: str = g.get("request_id") or _assign()
    return request_id


def _assign_before_request() -> None:
    _assign()  # a before_request hook that returned a value would replace the response


def _assign() -> str:
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if _ACCEPTABLE.match(offered) else uuid.uuid4().hex
    return str(g.request_id)


def _echo(response: Response) -> Response:
    response.headers["X-Request-ID"] = current_request_id()
    return response
