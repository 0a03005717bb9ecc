"""One decision panel for committees (votes tallied, the data-use match, the signing
official's comment, the chair's decision as one choice with no default), and a second step
before every action that cannot be undone, without any script."""

from __future__ import annotations

import re

import requests

from tests.conftest import DemoInstance, sign_in
from tests.html_forms import forms_in
from tests.request_pages import confirm, file_draft, post_form, state_on_page


def endorsed_request(base: str) -> tuple[requests.Session, str]:
    """A request the researcher filed and submitted and the signing official endorsed."""
    researcher = sign_in(base, "researcher")
    filed = file_draft(researcher, base, title="Ageing eQTLs")
    path = filed.url.removeprefix(base)
    post_form(researcher, base, path, f"{path}/submit")
    official = sign_in(base, "signing-official")
    post_form(official, base, path, f"{path}/endorse", comment="Known to us; well supervised.")
    return researcher, path


def panel_of(html: str) -> str:
    found = re.search(r'<section class="decision-panel".*?</section>\s*(?=<h2|<ol)', html, re.S)
    assert found is not None, "no decision panel"
    return found.group(0)


def test_the_panel_tallies_votes_and_shows_the_match_and_the_officials_comment(
    live: DemoInstance,
) -> None:
    base = live.base_url
    researcher, path = endorsed_request(base)
    member = sign_in(base, "dac-member")
    panel = panel_of(member.get(f"{base}{path}", timeout=10).text)
    assert "<strong>0 of 2</strong> members voted" in panel
    assert "Known to us; well supervised." in panel.split('id="so-comment"')[1]
    assert "Automatic data-use match" in panel
    votes = re.findall(r'<input type="radio" name="vote"[^>]*>', panel)
    assert len(votes) == 3 and not any("checked" in v for v in votes)  # no default vote
    post_form(member, base, path, f"{path}/vote", vote="approve", rationale="Fits GRU.")

    chair = sign_in(base, "dac-chair")
    panel = panel_of(chair.get(f"{base}{path}", timeout=10).text)
    assert "<strong>1 of 2</strong> members voted:" in panel and "approve 1 · reject 0" in panel
    decisions = re.findall(r'<input type="radio" name="decision" value="(\w+)"[^>]*>', panel)
    assert decisions == ["approve", "reject", "return"]
    assert "checked" not in "".join(re.findall(r'name="decision"[^>]*>', panel))
    # One form decides: there are no separate approve, reject and return forms any more.
    actions = {f.action.rsplit("/", 1)[1] for f in forms_in(panel, f"{base}{path}")}
    assert actions == {"vote", "decide", "declare-conflict"}
    assert "decision-panel" not in researcher.get(f"{base}{path}", timeout=10).text


def test_a_decision_without_a_choice_is_refused_beside_the_field_and_kept(
    live: DemoInstance,
) -> None:
    base = live.base_url
    _, path = endorsed_request(base)
    chair = sign_in(base, "dac-chair")
    shown = chair.get(f"{base}{path}", timeout=10)
    form = next(f for f in forms_in(shown.text, shown.url) if f.action.endswith("/decide"))
    fields = {**form.fields, "reason": "Looks fine to me.", "days": "90"}
    del fields["decision"]
    refused = chair.post(form.action, data=fields, timeout=10)
    assert refused.status_code == 400
    assert (
        '<p class="field-error" id="decide-decision-error">Choose one: approve, reject or '
        "return with questions.</p>"
    ) in refused.text
    assert ">Looks fine to me.</textarea>" in refused.text and 'value="90"' in refused.text
    assert state_on_page(refused.text) == "endorsed"


def test_rejecting_asks_first_and_changes_nothing_until_confirmed(live: DemoInstance) -> None:
    base = live.base_url
    researcher, path = endorsed_request(base)
    chair = sign_in(base, "dac-chair")
    asked = post_form(
        chair, base, path, f"{path}/decide", decision="reject", reason="Outside the consent."
    )
    assert f"Reject request {path.rsplit('/', 1)[1]}?" in asked.text
    assert "<blockquote>Outside the consent.</blockquote>" in asked.text
    assert state_on_page(researcher.get(f"{base}{path}", timeout=10).text) == "endorsed"
    rejected = confirm(chair, asked)
    assert state_on_page(rejected.text) == "rejected"
    assert "Outside the consent." in rejected.text


def test_withdrawing_asks_first_and_only_the_applicant_is_asked(live: DemoInstance) -> None:
    base = live.base_url
    researcher, path = endorsed_request(base)
    official = sign_in(base, "signing-official")
    shown = researcher.get(f"{base}{path}", timeout=10)
    form = next(f for f in forms_in(shown.text, shown.url) if f.action.endswith("/withdraw"))
    # Someone who may not withdraw it is refused at the first step, not asked.
    theirs = official.get(f"{base}{path}", timeout=10)
    token = forms_in(theirs.text, theirs.url)[-1].fields["csrf_token"]
    refused = official.post(form.action, data={"csrf_token": token}, timeout=10)
    assert refused.status_code == 403 and "Yes, withdraw it" not in refused.text
    asked = researcher.post(form.action, data=form.fields, timeout=10)
    assert asked.status_code == 200 and "Yes, withdraw it" in asked.text
    assert state_on_page(researcher.get(f"{base}{path}", timeout=10).text) == "endorsed"
    assert state_on_page(confirm(researcher, asked).text) == "withdrawn"


def test_every_vote_problem_shows_at_once_beside_its_field(live: DemoInstance) -> None:
    base = live.base_url
    _, path = endorsed_request(base)
    member = sign_in(base, "dac-member")
    shown = member.get(f"{base}{path}", timeout=10)
    form = next(f for f in forms_in(shown.text, shown.url) if f.action.endswith("/vote"))
    refused = member.post(form.action, data={"csrf_token": form.fields["csrf_token"]}, timeout=10)
    assert refused.status_code == 400
    assert 'id="vote-vote-error"' in refused.text
    assert 'id="vote-rationale-error"' in refused.text
    assert 'aria-invalid="true" aria-describedby="vote-rationale-error"' in refused.text
    assert state_on_page(refused.text) == "endorsed"
