"""Form errors beside the field, all of them at once, the form kept as typed, required
fields marked: the new-request and revise forms."""

from __future__ import annotations

import re

from tests.conftest import DemoInstance, sign_in
from tests.html_forms import forms_in
from tests.request_pages import file_draft


def test_every_problem_of_a_new_request_shows_beside_its_field_at_once(
    live: DemoInstance,
) -> None:
    base = live.base_url
    researcher = sign_in(base, "researcher")
    shown = researcher.get(f"{base}/requests/new", timeout=10)
    # Required fields are marked (and carry `required` for assistive technology).
    for name in ("title", "research_use_statement"):
        assert re.search(rf'<label for="field-{name}">[^<]*<span class="required"', shown.text)
    assert 'Datasets <span class="required"' in shown.text
    form = next(f for f in forms_in(shown.text, shown.url) if f.action.endswith("/requests/new"))
    del form.fields["dataset_ids"]  # no dataset ticked
    refused = researcher.post(
        form.action,
        timeout=10,
        data={
            **form.fields,
            "title": "ab",
            "research_use_statement": "too short",
            "purpose_disease_ids": "diabetes",
            "it_director_email": "not-an-address",
            "non_technical_summary": "Kept as typed.",
        },
    )
    assert refused.status_code == 400
    for name in (
        "title",
        "research_use_statement",
        "purpose_disease_ids",
        "it_director_email",
        "dataset_ids",
    ):
        assert f'id="{name}-error"' in refused.text, name
        assert f'aria-describedby="{name}-error"' in refused.text, name
    assert "5 things need changing" in refused.text
    assert 'value="ab"' in refused.text and ">too short</textarea>" in refused.text
    assert ">Kept as typed.</textarea>" in refused.text and 'value="diabetes"' in refused.text
    assert "MONDO:0005148" in refused.text.split('id="purpose_disease_ids-error"')[1][:200]
    assert researcher.get(f"{base}/api/v1/requests", timeout=10).json()["requests"] == []


def test_a_refused_revision_returns_to_the_edit_form_as_typed(live: DemoInstance) -> None:
    base = live.base_url
    researcher = sign_in(base, "researcher")
    filed = file_draft(researcher, base, title="Ageing eQTLs")
    path = filed.url.removeprefix(base)
    shown = researcher.get(f"{base}{path}/edit", timeout=10)
    form = next(f for f in forms_in(shown.text, shown.url) if f.action.endswith("/revise"))
    refused = researcher.post(
        form.action,
        timeout=10,
        data={**form.fields, "title": "x", "cloud_use_statement": "Our own cluster."},
    )
    assert refused.status_code == 400
    assert "<h1>Revise request" in refused.text and 'id="title-error"' in refused.text
    assert 'value="x"' in refused.text and ">Our own cluster.</textarea>" in refused.text
    api = researcher.get(f"{base}/api/v1{path}", timeout=10).json()
    assert api["title"] == "Ageing eQTLs" and api["cloud_use_statement"] == ""
