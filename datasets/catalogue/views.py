"""Pages of the catalogue: every study, and one dataset with its files and what the
visitor may do with them.

This file lists every page URL of the catalogue; the JSON API is in api.py.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from access.grants import live_grants_of
from access.identity.current_actor import current_actor
from core.web.request_scope import clock, db_session
from datasets.agreements.versions import agreement_status
from datasets.catalogue.queries import get_dataset, list_studies

pages = Blueprint("catalogue", __name__, template_folder="templates")


@pages.get("/")
def catalogue() -> str:
    return render_template("catalogue/catalogue.html", studies=list_studies(db_session()))


@pages.get("/datasets/<int:dataset_id>")
def dataset(dataset_id: int) -> str:
    found = get_dataset(db_session(), dataset_id)
    actor = current_actor()
    grant = None
    if actor.user is not None:
        grant = next((g for g in live_grants_of(db_session(), actor.user.id, clock().now())
                      if g.dataset_id == dataset_id), None)
    agreement = agreement_status(db_session(), actor, dataset_id)
    return render_template("catalogue/dataset.html", dataset=found, grant=grant,
                           agreement=agreement)
