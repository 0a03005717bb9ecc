"""Sensitive data at rest: what a database dump shows of a request, a contact email and a
queued email is ciphertext; the service reads them as before; keys rotate (old keys decrypt,
new writes use the new key, ``flask keys reencrypt`` rewrites the rest); the migration
encrypts rows that were there before it, and its downgrade gives them back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Engine, select, text

from access.identity.models import User, email_is
from access.notifications.models import OutboxEmail
from access.notifications.outbox import enqueue_email
from access.requests.models import AccessRequest
from app import create_app
from core.field_encryption import DataKeyError, DataKeys, key_id
from core.migrations import alembic_config, downgrade, upgrade
from tests.conftest import DemoInstance, demo_settings, issue_token

STATEMENT = "We will map ageing eQTLs in the thyroid of donors over seventy, privately."
SUMMARY = "How genes act differently in older people's thyroid glands."
DIRECTOR = "it-director@demo.example"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
OLD_KEY, NEW_KEY = "o" * 40, "n" * 40


def raw(engine: Engine, sql: str) -> list[str]:
    """What a dump shows: the stored text, read past the models."""
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text(sql))]


def file_request(demo: DemoInstance) -> int:
    created = demo.app.test_client().post(
        "/api/v1/requests",
        headers=issue_token(demo, "researcher"),
        json={
            "title": "Ageing thyroid",
            "research_use_statement": STATEMENT,
            "dataset_ids": [1],
            "non_technical_summary": SUMMARY,
            "it_director_name": "Ida Director",
            "it_director_email": DIRECTOR,
            "collaborator_emails": ["researcher2@demo.example"],
        },
    )
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


def test_a_dump_shows_ciphertext_and_the_service_reads_plaintext(demo: DemoInstance) -> None:
    request_id = file_request(demo)  # the collaborator was matched by email: still works
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        enqueue_email(
            session,
            to="dac-chair@demo.example",
            subject="New request",
            body=f"About: {STATEMENT}",
            now=NOW,
        )
    engine = demo.app.extensions["custodian.engine"]
    dump = " ".join(
        raw(
            engine,
            "SELECT research_use_statement || non_technical_summary || "
            "it_director_email || it_director_name FROM access_requests",
        )
        + raw(engine, "SELECT email FROM users WHERE email IS NOT NULL")
        + raw(engine, "SELECT to_address || body FROM outbox_emails")
    )
    for secret in (STATEMENT, SUMMARY, DIRECTOR, "Ida Director", "@demo.example", "ageing"):
        assert secret not in dump
    current = key_id(demo.settings.data_key)
    assert raw(engine, "SELECT research_use_statement FROM access_requests")[0].startswith(
        f"enc1:{current}:"
    )
    client = demo.app.test_client()
    shown = client.get(
        f"/api/v1/requests/{request_id}", headers=issue_token(demo, "researcher")
    ).get_json()
    assert (shown["research_use_statement"], shown["it_director_email"]) == (STATEMENT, DIRECTOR)
    assert shown["non_technical_summary"] == SUMMARY
    users = client.get("/api/v1/users", headers=issue_token(demo, "admin")).get_json()["users"]
    assert "researcher@demo.example" in {user["email"] for user in users}
    with demo.app.extensions["custodian.session_factory"]() as session:
        queued = session.scalars(select(OutboxEmail)).one()
        assert (queued.to_address, queued.body) == ("dac-chair@demo.example", f"About: {STATEMENT}")


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(demo: DemoInstance) -> None:
    file_request(demo)
    engine = demo.app.extensions["custodian.engine"]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE access_requests SET it_director_email = research_use_statement")
        )
    with (
        demo.app.extensions["custodian.session_factory"]() as session,
        pytest.raises(DataKeyError, match=r"access_requests\.it_director_email"),
    ):
        session.scalars(select(AccessRequest)).all()


def app_with_keys(demo: DemoInstance, current: str, *previous: str) -> Flask:
    return create_app(
        replace(demo.settings, data_key=current, data_keys_previous=previous), clock=demo.clock
    )


def statements(app: Flask) -> list[str]:
    with app.extensions["custodian.session_factory"]() as session:
        return list(
            session.scalars(select(AccessRequest.research_use_statement).order_by(AccessRequest.id))
        )


def found_by_email(app: Flask) -> bool:
    """An email is found by value (invitations do this), whatever its case and blanks."""
    with app.extensions["custodian.session_factory"]() as session:
        return (
            session.scalar(select(User.id).where(email_is(session, " Researcher@DEMO.example ")))
            is not None
        )


def test_a_lookup_hash_finds_an_email_and_shows_nothing(demo: DemoInstance) -> None:
    engine = demo.app.extensions["custodian.engine"]
    lookups = raw(engine, "SELECT email_lookup FROM users WHERE email IS NOT NULL")
    assert lookups and all(len(value) == 64 and "@" not in value for value in lookups)
    assert found_by_email(demo.app)


def test_keys_rotate_and_reencrypt_retires_the_old_one(demo: DemoInstance) -> None:
    demo_key = demo.settings.data_key  # what the demo's own rows were written with
    old = app_with_keys(demo, OLD_KEY, demo_key)
    first = file_request(DemoInstance(old, demo.clock, demo.settings, demo.base_url))
    rotated = app_with_keys(demo, NEW_KEY, OLD_KEY, demo_key)
    second = file_request(DemoInstance(rotated, demo.clock, demo.settings, demo.base_url))
    assert statements(rotated) == [STATEMENT, STATEMENT]  # the old key still decrypts
    engine = rotated.extensions["custodian.engine"]
    stored = raw(engine, "SELECT research_use_statement FROM access_requests ORDER BY id")
    assert second == first + 1 and len(stored) >= 2
    assert [value.split(":")[1] for value in stored[-2:]] == [key_id(OLD_KEY), key_id(NEW_KEY)]
    new_only = app_with_keys(demo, NEW_KEY)
    with pytest.raises(DataKeyError):
        statements(new_only)
    assert found_by_email(rotated) and not found_by_email(new_only)
    result = rotated.test_cli_runner().invoke(args=["keys", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "access_requests.research_use_statement: 1 re-encrypted" in result.output
    assert "users.email: " in result.output and "outbox_emails.body: " in result.output
    assert statements(new_only) == [STATEMENT, STATEMENT]  # the old key can go
    assert found_by_email(new_only)  # lookups were rewritten with the values
    again = rotated.test_cli_runner().invoke(args=["keys", "reencrypt"])
    assert "access_requests.research_use_statement: 0 re-encrypted" in again.output
    for app in (old, rotated, new_only):
        app.extensions["custodian.engine"].dispose()


def test_the_migration_encrypts_existing_rows_and_its_downgrade_decrypts(
    fresh_database_url: str, tmp_path: Path
) -> None:
    app = create_app(demo_settings(tmp_path, 5999, fresh_database_url))
    engine: Engine = app.extensions["custodian.engine"]
    before = ScriptDirectory.from_config(alembic_config(engine)).get_revision("0016")
    assert before is not None
    previous = str(before.down_revision)
    upgrade(engine, previous)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (issuer, subject, email, name, created_at) "
                "VALUES ('https://idp.example', 'old', 'old@demo.example', 'Old', :now)"
            ),
            {"now": NOW.replace(tzinfo=None)},
        )
    upgrade(engine)
    assert raw(engine, "SELECT email FROM users")[0].startswith("enc1:")
    with app.extensions["custodian.session_factory"]() as session:
        assert session.scalars(select(User.email)).one() == "old@demo.example"
    downgrade(engine, previous)
    assert raw(engine, "SELECT email FROM users") == ["old@demo.example"]
    engine.dispose()


def test_a_short_data_key_is_refused() -> None:
    with pytest.raises(DataKeyError):
        DataKeys("short")
