"""URL converters with the bounds of our database columns.

Werkzeug's ``int`` converter accepts any length of digits; an id beyond BIGINT would reach
the database and fail there. Bounded, it simply matches no route: a plain 404.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

LARGEST_ID = 2**63 - 1


class BoundedIntegerConverter(IntegerConverter):
    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, *args, **kwargs)


def install(app: Flask) -> None:
    # Must run before any blueprint registers a rule that uses <int:...>.
    app.url_map.converters["int"] = BoundedIntegerConverter
