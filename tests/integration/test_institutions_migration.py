"""Revision 0019 turns free-text institutions (users' and signing officials' scopes) into
records and links both by id, losing nothing; its downgrade writes the names back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from core.db import make_engine
from core.migrations import downgrade, upgrade

USERS = [  # id, subject, institution text
    (1, "ann", "Example University"),
    (2, "bob", "Example University"),
    (3, "cy", None),
    (4, "di", "Other Institute"),
]
ROLES = [  # id, user, role, scope: an official of an institution no user has yet
    (1, 1, "signing_official", "Example University"),
    (2, 3, "signing_official", "Only Officials College"),
    (3, 4, "admin", ""),
]


@pytest.fixture
def engine_before(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    upgrade(engine, "0018")
    with engine.begin() as connection:
        for user_id, subject, institution in USERS:
            connection.execute(text(
                "INSERT INTO users (id, issuer, subject, institution, created_at, "
                "email_verified) VALUES (:id, 'https://idp.example', :subject, :institution, "
                "'2026-12-01 00:00:00', false)"),
                {"id": user_id, "subject": subject, "institution": institution})
        for row_id, user_id, role, scope in ROLES:
            connection.execute(text(
                "INSERT INTO role_assignments (id, user_id, role, scope) "
                "VALUES (:id, :user_id, :role, :scope)"),
                {"id": row_id, "user_id": user_id, "role": role, "scope": scope})
    yield engine
    engine.dispose()


def test_institution_texts_become_records_linked_by_id(engine_before: Engine) -> None:
    upgrade(engine_before)
    with engine_before.connect() as connection:
        names: dict[str, int] = dict(
            connection.execute(text("SELECT name, id FROM institutions")).all())
        users = connection.execute(text(
            "SELECT id, institution_id, institution_source FROM users ORDER BY id")).all()
        roles = connection.execute(text(
            "SELECT id, role, institution_id FROM role_assignments ORDER BY id")).all()
    assert set(names) == {"Example University", "Other Institute", "Only Officials College"}
    example, other = names["Example University"], names["Other Institute"]
    assert [tuple(u) for u in users] == [
        (1, example, "claim"), (2, example, "claim"), (3, None, None), (4, other, "claim")]
    assert [tuple(r) for r in roles] == [
        (1, "signing_official", example),
        (2, "signing_official", names["Only Officials College"]),
        (3, "admin", None),
    ]


def test_downgrade_writes_the_names_back(engine_before: Engine) -> None:
    upgrade(engine_before)
    downgrade(engine_before, "0018")
    with engine_before.connect() as connection:
        users = connection.execute(text(
            "SELECT id, subject, institution FROM users ORDER BY id")).all()
        roles = connection.execute(text(
            "SELECT id, user_id, role, scope FROM role_assignments ORDER BY id")).all()
    assert [tuple(u) for u in users] == USERS
    assert [tuple(r) for r in roles] == ROLES
