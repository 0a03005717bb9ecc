"""A download link that fails in a browser gets a page saying what happened and where a
fresh link comes from; scripts (anything not asking for HTML first) keep the JSON error."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import controlled_files, grant_access, issue_url

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def opened(client: FlaskClient, url: str, accept: str | None) -> tuple[int, str, str]:
    parts = urlsplit(url)
    headers = {"Accept": accept} if accept else {}
    answer = client.get(f"{parts.path}?{parts.query}", headers=headers)
    return answer.status_code, answer.mimetype or "", answer.get_data(as_text=True)


def test_an_expired_link_in_a_browser_says_so_and_points_to_a_fresh_one(
    demo: DemoInstance,
) -> None:
    client = demo.app.test_client()
    dataset_id = grant_access(demo)
    _, files = controlled_files(demo)
    url = issue_url(client, issue_token(demo, "researcher"), files[0])
    demo.clock.advance(timedelta(hours=2))
    status, mimetype, page = opened(client, url, BROWSER)
    assert (status, mimetype) == (403, "text/html")
    assert "<h1>This download link has expired</h1>" in page
    assert "it has expired (links last only minutes)" in page
    assert f'href="/datasets/{dataset_id}" id="fresh-link"' in page
    assert "{" not in page.split("<main>")[1].split("</main>")[0]  # no JSON on the page


def test_a_tampered_link_in_a_browser_says_it_cannot_be_trusted(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    grant_access(demo)
    _, files = controlled_files(demo)
    url = issue_url(client, issue_token(demo, "researcher"), files[0])
    status, mimetype, page = opened(client, url.replace("expires=", "expires=9"), BROWSER)
    assert (status, mimetype) == (403, "text/html")
    assert "<h1>This download link is not valid</h1>" in page
    assert "it was changed or cut short" in page and 'id="fresh-link"' in page


def test_scripts_keep_the_json_error_with_the_same_facts(demo: DemoInstance) -> None:
    client = demo.app.test_client()
    dataset_id = grant_access(demo)
    _, files = controlled_files(demo)
    url = issue_url(client, issue_token(demo, "researcher"), files[0])
    demo.clock.advance(timedelta(hours=2))
    for accept in (None, "*/*", "application/json"):  # no header, curl, an API client
        status, mimetype, body = opened(client, url, accept)
        assert (status, mimetype) == (403, "application/json"), accept
        error = json.loads(body)["error"]
        assert error["code"] == "forbidden"
        assert error["details"] == {
            "reason": "expired",
            "fresh_link_page": f"/datasets/{dataset_id}",
        }
