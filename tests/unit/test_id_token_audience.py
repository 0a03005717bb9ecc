"""Whom an ID token was issued to (OpenID Connect Core 3.1.3.7, steps 3-5), without a provider.

The hostile provider (tests/e2e/test_id_token_checks.py) proves the check runs on sign-in;
here every shape of ``aud`` and ``azp`` is decided on its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from access.identity.oidc import AudienceMismatchError, check_audience

US = "custodian"
# Each refusal's whole message (logs and the audit carry only the error's type).
MESSAGES = {
    "another client": "the ID token was issued to another client",
    "must name azp": "an ID token for several audiences must name azp",
    "another authorized party": "the ID token was issued to another authorized party",
    "not a string": "the ID token's aud is not a string or a list of strings",
}


@pytest.mark.parametrize("claims", [
    {"aud": US},
    {"aud": [US]},
    {"aud": US, "azp": US},
    {"aud": [US, "another-client"], "azp": US},
    {"aud": ["another-client", US], "azp": US},
], ids=["string", "list-of-one", "azp-us", "several-azp-us", "several-us-last-azp-us"])
def test_a_token_issued_to_us_is_accepted(claims: dict[str, Any]) -> None:
    check_audience(claims, US)


@pytest.mark.parametrize("claims, reason", [
    ({"aud": "another-client", "azp": US}, "another client"),
    ({"aud": ["another-client"], "azp": US}, "another client"),
    ({"aud": ["another-client", "a-third"], "azp": US}, "another client"),
    ({"aud": "custodian-but-longer"}, "another client"),
    ({"aud": [US, "another-client"]}, "must name azp"),
    ({"aud": US, "azp": "another-client"}, "another authorized party"),
    ({"aud": [US, "another-client"], "azp": "another-client"}, "another authorized party"),
    ({"aud": US, "azp": ""}, "another authorized party"),
    ({}, "not a string"),
    ({"aud": None}, "not a string"),
    ({"aud": 7}, "not a string"),
    ({"aud": [US, 7]}, "not a string"),
    ({"aud": {"custodian": True}}, "not a string"),
    ({"aud": []}, "another client"),
], ids=["aud-other-azp-us", "list-other-azp-us", "several-without-us", "prefix-is-not-us",
        "several-without-azp", "azp-other", "several-azp-other", "azp-empty", "no-aud",
        "aud-null", "aud-number", "aud-list-with-number", "aud-object", "aud-empty-list"])
def test_a_token_not_issued_to_us_is_refused(claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(AudienceMismatchError) as refused:
        check_audience(claims, US)
    assert str(refused.value) == MESSAGES[reason]
