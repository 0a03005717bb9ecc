"""What a new API token may do and how long it lives (access/tokens.py), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from access.tokens import token_terms
from core.errors import Forbidden, InvalidInput
from core.scopes import DEFAULT_SCOPES, Scope

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def terms(scopes: set[str] | None = None, days: int | None = None, *,
          holder: frozenset[str] | None = None, maker_ends: datetime | None = None
          ) -> tuple[frozenset[str], datetime]:
    return token_terms(scopes, days, holder_scopes=holder, max_days=90, default_days=30,
                       now=NOW, maker_expires_at=maker_ends)


def test_a_session_gets_browse_and_download_and_the_default_life_when_it_names_none() -> None:
    assert terms() == (DEFAULT_SCOPES, NOW + timedelta(days=30))
    assert Scope.ADMIN not in terms()[0] and Scope.AUDIT_READ not in terms()[0]


def test_a_token_made_by_a_token_gets_at_most_the_makers_scopes() -> None:
    narrow = frozenset({Scope.DOWNLOAD, Scope.TOKENS})
    assert terms(holder=narrow)[0] == {Scope.DOWNLOAD}
    with pytest.raises(Forbidden) as refused:
        terms({Scope.DOWNLOAD, Scope.ADMIN}, holder=narrow)
    assert refused.value.details == {"missing_scopes": ["admin"]}


def test_a_token_made_by_a_token_never_outlives_its_maker() -> None:
    maker_ends = NOW + timedelta(days=3)
    _, expires = terms(days=60, holder=frozenset({Scope.DOWNLOAD}), maker_ends=maker_ends)
    assert expires == maker_ends


def test_a_session_token_is_not_capped_by_any_maker() -> None:
    assert terms(days=60, maker_ends=NOW + timedelta(days=3))[1] == NOW + timedelta(days=60)


@pytest.mark.parametrize("days", [0, 91, -1])
def test_a_lifetime_outside_one_to_the_maximum_is_refused(days: int) -> None:
    with pytest.raises(InvalidInput, match="between 1 and 90 days"):
        terms(days=days)


@pytest.mark.parametrize("scopes", [set(), {"everything"}])
def test_no_scope_or_an_unknown_one_is_refused(scopes: set[str]) -> None:
    with pytest.raises(InvalidInput, match="Choose one or more scopes"):
        terms(scopes)
