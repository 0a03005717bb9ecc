"""A second step before an action that cannot be undone, with no script: the first POST
answers with a page that says what will happen and repeats the form's fields, and only the
POST from that page (carrying ``confirmed=yes``) acts.

The JSON API never asks: a script that calls an action means it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import render_template

FIELD = "confirmed"


@dataclass(frozen=True)
class Confirmation:
    title: str  # the question: "Reject request 4?"
    consequence: str  # what happens, and that it cannot be undone
    button: str  # "Yes, reject it"


def is_confirmed(form: Mapping[str, str]) -> bool:
    return form.get(FIELD) == "yes"


def confirmation_page(
    asked: Confirmation, *, action_url: str, back_url: str, fields: Mapping[str, str]
) -> str:
    """The page asking; ``fields`` are sent again as typed (the CSRF token is the page's)."""
    kept = {name: value for name, value in fields.items() if name not in ("csrf_token", FIELD)}
    return render_template(
        "confirm.html", asked=asked, action_url=action_url, back_url=back_url, fields=kept
    )
