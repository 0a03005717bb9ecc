"""The interactive API docs render in a real browser under our CSP, with no outside asset."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.conftest import DemoInstance


def test_api_docs_page_lists_every_documented_operation(page: Page, live: DemoInstance) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "status of 404" not in message.text else None)
    # The browser asks for /favicon.ico on its own; the site has none, unrelated to the docs.
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url)
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(live.base_url) else None)
    page.goto("/api/docs")
    page.wait_for_selector(".opblock")
    document = page.request.get(f"{live.base_url}/api/v1/openapi.json").json()
    operations = sum(len(methods) for methods in document["paths"].values())
    assert page.locator(".opblock").count() == operations
    page.get_by_text("/api/v1/tokens", exact=True).first.wait_for()
    assert problems == [] and missing == [] and outside == []
