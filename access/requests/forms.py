"""HTML forms to the JSON API's payloads, so pages and API share one schema per action.

Forms send text: numbers become integers (the schemas want strict ones), checkboxes become
booleans, lists come one per line or separated by commas.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

TEXT_FIELDS = ("title", "research_use_statement", "non_technical_summary",
               "cloud_use_statement", "it_director_name", "it_director_email")
PURPOSE_FLAGS = ("purpose_health_medical", "purpose_methods_development",
                 "purpose_population_origins", "purpose_commercial_use",
                 "purpose_for_profit_organisation")
_SEPARATORS = re.compile(r"[\s,;]+")


FormData = MultiDict[str, str]


def request_form(form: FormData, *, with_datasets: bool) -> dict[str, Any]:
    """A new request (``with_datasets``) or a revision: a field sent empty is cleared, except
    the required ones and the email address, which are then left out (and kept)."""
    keep_if_empty = ("non_technical_summary", "cloud_use_statement", "it_director_name")
    data: dict[str, Any] = {
        name: form.get(name, "").strip() for name in TEXT_FIELDS
        if form.get(name, "").strip() or (name in keep_if_empty and name in form)
        or (with_datasets and name in ("title", "research_use_statement"))}
    data.update({flag: form.get(flag) == "on" for flag in PURPOSE_FLAGS})
    data["purpose_disease_ids"] = split_list(form.get("purpose_disease_ids", ""))
    if with_datasets:
        data["dataset_ids"] = [int(i) for i in form.getlist("dataset_ids") if i.isdigit()]
        data["collaborator_emails"] = split_list(form.get("collaborator_emails", ""))
    return data


def action_form(action: str, form: FormData) -> dict[str, Any]:
    if action == "revise":
        return request_form(form, with_datasets=False)
    if action == "answer":
        return {"answers": {key.removeprefix("answer-"): form.get(key, "").strip()
                            for key in _keys(form) if key.startswith("answer-")
                            and form.get(key, "").strip()}}
    if action == "close":
        return {"copies_destroyed": form.get("copies_destroyed") == "on",
                "statement": form.get("statement", "")}
    if action == "return":
        questions = [line.strip() for line in form.get("questions", "").splitlines()]
        data: dict[str, Any] = {"questions": [q for q in questions if q]}
    else:
        data = {key: form.get(key, "") for key in _keys(form)
                if key not in ("csrf_token", "committee_id", "days")}
        if action == "endorse" and not data.get("comment"):
            data.pop("comment", None)
    for number in ("days", "committee_id"):
        value = form.get(number, "").strip()
        if value:
            data[number] = int(value) if value.isdigit() else value
    return data


def split_list(text: str) -> list[str]:
    return [part for part in _SEPARATORS.split(text.strip()) if part]


def shown(form: Mapping[str, Any]) -> dict[str, Any]:
    """What the new-request page shows again after a refusal (lists back to text)."""
    return {**form, "purpose_disease_ids": ", ".join(form.get("purpose_disease_ids", [])),
            "collaborator_emails": ", ".join(form.get("collaborator_emails", []))}


def _keys(form: FormData) -> list[str]:
    return [str(key) for key in form]
