"""`make screenshots`: the main page of each role, at desktop width and at 390 px, as PNGs
under docs/screenshots/ (the README shows them).

Runs the demo on a throwaway SQLite instance, files one request through the API and takes it
to the committee (so the chair's decision panel and the queues have something in them),
signs in as each persona through the embedded IdP's page, and photographs the pages as they
are served; Debian's Chromium, as in the browser tests.

    .venv/bin/python -m tests.e2e.screenshots [OUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from app import create_app
from core.clock import MovableClock
from core.migrations import upgrade
from tests.conftest import DemoInstance, csrf_header, demo_settings, serving, sign_in
from tests.e2e.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    sign_in_from_header,
)
from tests.ports import HeldPort
from tests.request_pages import STATEMENT

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TITLE = "Ageing eQTLs in liver"


@dataclass(frozen=True)
class Shot:
    name: str  # the PNG's name, before -desktop / -phone
    persona: str | None  # None: signed out
    path: str  # {request} is the demo request's id


SHOTS = [
    Shot("catalogue", None, "/"),
    Shot("open-results-gene", None, "/results/genes/ALB"),
    Shot("researcher-dataset", "researcher", "/datasets/1"),
    Shot("researcher-request", "researcher", "/requests/{request}"),
    Shot("signing-official-work", "signing-official", "/work"),
    Shot("member-queue", "dac-member", "/committees/1/queue"),
    Shot("chair-decision-panel", "dac-chair", "/requests/{request}"),
    Shot("auditor-verification", "auditor", "/audit/verification"),
    Shot("admin-requests", "admin", "/admin/requests"),
    Shot("admin-users", "admin", "/admin/users"),
]


def endorsed_request(base: str) -> int:
    researcher = sign_in(base, "researcher")
    headers = csrf_header(researcher, base)
    filed = researcher.post(
        f"{base}/api/v1/requests", headers=headers, timeout=10,
        json={"title": TITLE, "research_use_statement": STATEMENT, "dataset_ids": [1]},
    )
    filed.raise_for_status()
    request_id: int = filed.json()["id"]
    researcher.post(f"{base}/api/v1/requests/{request_id}/submit", headers=headers,
                    timeout=10).raise_for_status()
    official = sign_in(base, "signing-official")
    official.post(f"{base}/api/v1/requests/{request_id}/endorse",
                  headers=csrf_header(official, base), timeout=10,
                  json={"comment": "Known to us; the project is well supervised."},
                  ).raise_for_status()
    return request_id


def photograph(browser: Browser, live: DemoInstance, out: Path, request_id: int) -> list[Path]:
    written = []
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = None
        persona: str | None = "nobody yet"
        for shot in SHOTS:
            if shot.persona != persona:  # a fresh profile for each persona
                if context is not None:
                    context.close()
                context = browser.new_context(base_url=live.base_url, viewport=viewport)
                context.set_default_timeout(TIMEOUT_MS)
                page = context.new_page()
                page.goto("/")
                if shot.persona is not None:
                    sign_in_from_header(page, shot.persona)
                persona = shot.persona
            response = page.goto(shot.path.format(request=request_id))
            if response is None or response.status != 200:
                raise SystemExit(f"{shot.path} answered {response and response.status}")
            target = out / f"{shot.name}-{width}.png"
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
        if context is not None:
            context.close()
    return written


def main(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    port = HeldPort()
    with tempfile.TemporaryDirectory(prefix="custodian-screenshots-") as instance:
        settings = demo_settings(Path(instance), port.number)
        clock = MovableClock()
        app = create_app(settings, clock=clock)
        upgrade(app.extensions["custodian.engine"])
        set_up = app.test_cli_runner().invoke(args=["demo", "setup"])  # as `make demo` does
        if set_up.exit_code != 0:
            raise SystemExit(f"flask demo setup failed: {set_up.output}")
        try:
            with serving(DemoInstance(app, clock, settings, settings.public_url)) as live, \
                    sync_playwright() as driver:
                request_id = endorsed_request(live.base_url)
                browser = driver.chromium.launch(executable_path=str(CHROMIUM),
                                                 args=CHROMIUM_ARGS, headless=True)
                try:
                    return photograph(browser, live, out, request_id)
                finally:
                    browser.close()
        finally:
            app.extensions["custodian.engine"].dispose()
            port.close()


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(path)
