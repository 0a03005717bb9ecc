"""A request explains itself: where it stands, who holds it and what they must do, a
timeline in plain words naming who acted and what they said, and messages in plain words."""

from __future__ import annotations

import re
from html import unescape

from tests.conftest import DemoInstance, sign_in
from tests.request_pages import file_draft, post_form


def text_of(html: str, element_id: str) -> str:
    """The words inside the element with that id, tags dropped, spaces squeezed."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(p|ol|section)>', html, re.S)
    assert found is not None, element_id
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def flash(html: str) -> str:
    found = re.search(r'class="flash flash-success">([^<]*)<', html)
    assert found is not None, "no message"
    return unescape(found.group(1))


def current_stage(html: str) -> str:
    found = re.search(r'aria-current="step">\s*<span class="stage-name">([^<]+)<', html)
    assert found is not None
    return found.group(1)


def test_each_step_says_who_holds_the_request_and_what_comes_next(live: DemoInstance) -> None:
    base = live.base_url
    researcher = sign_in(base, "researcher")
    draft = file_draft(researcher, base, title="Ageing eQTLs")
    path = draft.url.removeprefix(base)
    assert "round 0" not in draft.text and "not yet before the committee" in draft.text
    assert current_stage(draft.text) == "Filed"
    assert text_of(draft.text, "next-step").startswith("With you. Complete the form")

    submitted = post_form(researcher, base, path, f"{path}/submit")
    assert flash(submitted.text).startswith(
        "Your request is submitted. It now waits for the signing official of Demo University"
    )
    assert current_stage(submitted.text) == "Signing official"
    assert text_of(submitted.text, "next-step").startswith(
        "With the signing official of Demo University. Endorse the request"
    )

    official = sign_in(base, "signing-official")
    shown = official.get(f"{base}{path}", timeout=10).text
    assert text_of(shown, "next-step").startswith("With you. Endorse")
    endorsed = post_form(
        official, base, path, f"{path}/endorse", comment="Riley is a postdoc in good standing here."
    )
    assert flash(endorsed.text) == (
        "You endorsed the request. It now goes to the data-access committee."
    )
    assert current_stage(endorsed.text) == "Committee review"

    member = sign_in(base, "dac-member")
    page = member.get(f"{base}{path}", timeout=10).text
    assert text_of(page, "next-step").startswith("With you. Members read the request and vote")
    timeline = text_of(page, "timeline")
    assert "Riley Researcher (applicant) started the request as a draft." in timeline
    assert (
        "Sam Official (signing official) endorsed the request; it went to the committee. "
        "Riley is a postdoc in good standing here."
    ) in timeline
    voted = post_form(
        member, base, path, f"{path}/vote", vote="reject", rationale="The statement is too vague."
    )
    assert flash(voted.text).startswith("Your vote is recorded.")
    assert (
        "Morgan Member (a committee member) voted to reject. The statement is too vague."
        in text_of(voted.text, "timeline")
    )

    # The applicant sees that a member voted, not who, how or why.
    mine = text_of(researcher.get(f"{base}{path}", timeout=10).text, "timeline")
    assert "A committee member voted." in mine
    assert "Morgan" not in mine and "too vague" not in mine

    chair = sign_in(base, "dac-chair")
    returned = post_form(
        chair, base, path, f"{path}/decide", decision="return", questions="Which tissues?"
    )
    assert flash(returned.text) == "The request went back to the applicant with your questions."
    back = researcher.get(f"{base}{path}", timeout=10).text
    assert current_stage(back) == "Filed"
    assert text_of(back, "next-step").startswith("With you. Answer the questions below")
    assert (
        "Dana Chair (committee chair) returned the request with questions. Which tissues?"
        in text_of(back, "timeline")
    )
