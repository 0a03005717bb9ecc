"""axe-core (tests/node's pinned npm package) run inside a page Chromium has open.

The script is evaluated through the DevTools protocol rather than added as a <script> tag,
which the pages' CSP (script-src 'self') rightly refuses. Only the critical and serious
violations fail a test: those are the ones that lock a person out (no label, unreadable
contrast, a control without a name).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[1] / "node" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")


@cache
def axe_source() -> str:
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: `make test` runs npm install in tests/node")
    return AXE.read_text()


def blocking_violations(page: Page) -> list[dict[str, Any]]:
    """The page's critical and serious axe violations, as axe reports them."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in found if v["impact"] in BLOCKING]


def readable(page_url: str, violations: list[dict[str, Any]]) -> str:
    """One line per violation and one per offending element (its selector and axe's summary)."""
    lines = [page_url]
    for violation in violations:
        lines.append(f"  {violation['impact']}: {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {target}: {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """No critical or serious axe violation on the page as it stands now."""
    violations = blocking_violations(page)
    assert not violations, "axe-core found:\n" + readable(page.url, violations)
