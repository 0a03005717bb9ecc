"""The accessibility check the journeys run (tests/e2e/axe.py) finds what it must."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.e2e.axe import assert_accessible, blocking_violations

PAGE = ('<!doctype html><html lang="en"><head><title>Users</title></head><body><main>'
        '<h1>Users</h1>{}</main></body></html>')


def test_an_unlabelled_control_is_a_critical_finding_named_by_its_selector(
    browser: Browser,
) -> None:
    """As the role pickers of /admin/users were: named in the failure, with the element."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(PAGE.format('<select name="role"><option>auditor</option></select>'))
        found = blocking_violations(page)
        assert [(v["id"], v["impact"]) for v in found] == [("select-name", "critical")]
        shape = r'critical: select-name: Select element must have an accessible name\n +select: '
        with pytest.raises(AssertionError, match=shape):
            assert_accessible(page)
        page.set_content(PAGE.format('<label>Role <select name="role"><option>auditor</option>'
                                     '</select></label>'))
        assert_accessible(page)
    finally:
        context.close()
