"""Driving the request pages over HTTP with the forms the pages themselves serve."""

from __future__ import annotations

import re

import requests

from tests.html_forms import forms_in

STATEMENT = "We study tissue-specific regulation of gene expression in ageing adults."


def post_form(
    browser: requests.Session, base: str, page: str, action: str, **fields: str
) -> requests.Response:
    """Fill the page's form that posts to ``action`` (keeping its CSRF token) and send it."""
    shown = browser.get(f"{base}{page}", timeout=10)
    assert shown.status_code == 200, shown.text
    form = next((f for f in forms_in(shown.text, shown.url) if f.action.endswith(action)), None)
    assert form is not None, f"no form posting to {action} on {page}"
    response = browser.post(form.action, data={**form.fields, **fields}, timeout=10)
    assert response.status_code == 200, response.text
    assert "flash-error" not in response.text, re.findall(r"flash-error\">([^<]*)", response.text)
    return response


def file_draft(browser: requests.Session, base: str, *, title: str) -> requests.Response:
    """File a draft for the demo's controlled dataset through the new-request page."""
    return post_form(browser, base, "/requests/new", "/requests/new", title=title,
                     research_use_statement=STATEMENT, dataset_ids="1")


def state_on_page(html: str) -> str:
    found = re.search(r'id="request-state" data-state="([a-z_]+)"', html)
    assert found is not None
    return found.group(1)


def confirm(browser: requests.Session, asked: requests.Response) -> requests.Response:
    """Answer "yes" on the confirmation page an irreversible action answers with first."""
    assert 'id="confirm"' in asked.text, "no confirmation asked"
    form = next(f for f in forms_in(asked.text, asked.url) if "confirmed" in f.fields)
    done = browser.post(form.action, data=form.fields, timeout=10)
    assert done.status_code == 200, done.text
    return done
