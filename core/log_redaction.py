"""Keep credentials out of logs: access-log lines lose their query strings.

Signed download URLs carry their signature, and OIDC callbacks their code and state, in
the query string; the WSGI server's access log would otherwise write them down.
"""

from __future__ import annotations

import logging
import re

# "GET /path?query HTTP/1.1", possibly wrapped in the dev server's colour codes.
_QUERY = re.compile(r"(?P<path>[A-Z]+ /[^\"?\s]*)\?[^\"\s\x1b]*")


class QueryStringRedactor(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _QUERY.sub(r"\g<path>?[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install() -> None:
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, QueryStringRedactor) for f in logger.filters):
            logger.addFilter(QueryStringRedactor())
