"""The browser fixtures every browser test shares (tests/e2e/browser.py)."""

from tests.e2e.browser import browser, page, playwright

__all__ = ["browser", "page", "playwright"]
