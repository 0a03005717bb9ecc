"""Integrity in the database: append-only audit tables, checkpoints every N events, roles on
every event, `flask audit verify` over chain and checkpoints, and the proofs API."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from access.identity.actor import Actor
from access.identity.models import User
from app import create_app
from audit.integrity.chain_check import verify_chain
from audit.integrity.checkpoints import CheckpointSigner, request_checkpoint, verify_checkpoints
from audit.integrity.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.integrity.models import AuditCheckpoint, AuditMerkleNode, AuditSigningKey
from audit.integrity.signed_note import (
    load_public_key_pem,
    open_checkpoint,
    raw_public_key,
    sign_note,
)
from audit.log.actions import AuditAction
from audit.log.append import SYSTEM, hashed_fields, record_event
from audit.log.chain import LINKED, SEPARATE, canonical_bytes, chain_format, event_hashes
from audit.log.models import GENESIS_HASH, AuditEvent
from core.db import make_engine, make_session_factory
from core.migrations import upgrade
from tests.conftest import ONLY_POSTGRESQL, DemoInstance, issue_token
from tests.integration.audit_support import event_count
from tests.integration.tampering import tamper_as_dba
from tests.integration.test_api_bad_input import assert_error_shape
from tests.sequencing import drain, seq_of

ROUTES = [
    "/api/v1/audit/export",
    "/api/v1/audit/checkpoints",
    "/api/v1/audit/public-key",
    "/api/v1/audit/events/1/proof?tree_size={size}",
    "/api/v1/audit/consistency?from={size}&to={size}",
]


def cli(demo: DemoInstance, *args: str) -> tuple[int, str]:
    result = demo.app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def checkpoint(demo: DemoInstance) -> int:
    """Ask for a checkpoint; the demo's sequencer signs it as the request commits."""
    factory = demo.app.extensions["custodian.session_factory"]
    with factory.begin() as session:
        entry_id = request_checkpoint(session, SYSTEM, demo.clock.now()).id
    return seq_of(factory, entry_id)


def demo_signer(demo: DemoInstance) -> CheckpointSigner:
    return CheckpointSigner.from_seed(
        demo.settings.audit_signing_key,
        origin=demo.settings.audit_origin,
        every=demo.settings.audit_checkpoint_every,
    )


def checkpoint_sizes(app: Flask) -> list[int]:
    with app.extensions["custodian.session_factory"]() as session:
        return list(
            session.scalars(select(AuditCheckpoint.tree_size).order_by(AuditCheckpoint.tree_size))
        )


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


@pytest.fixture
def auditor(demo: DemoInstance) -> dict[str, str]:
    return issue_token(demo, "auditor")


@pytest.fixture
def every_five(demo: DemoInstance) -> Iterator[Flask]:
    """The demo instance, checkpointing every 5 events."""
    app = create_app(replace(demo.settings, audit_checkpoint_every=5), clock=demo.clock)
    yield app
    app.extensions["custodian.engine"].dispose()


# The database refuses changes ------------------------------------------------------------


@pytest.mark.parametrize(
    "model, column",
    [
        (AuditEvent, "ip"),
        (AuditCheckpoint, "note"),
        (AuditSigningKey, "name"),
        (AuditMerkleNode, "hash"),
    ],
)
@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_database_refuses_to_change_or_remove_audit_rows(
    demo: DemoInstance, model: Any, column: str, change: str
) -> None:
    checkpoint(demo)
    checkpoint(demo)
    statement = delete(model) if change == "delete" else update(model).values({column: "x"})
    engine: Engine = demo.app.extensions["custodian.engine"]
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(statement)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(model))


# SQLite has no TRUNCATE, and roles and grants are PostgreSQL's: these run there only.


@ONLY_POSTGRESQL
@pytest.mark.parametrize(
    "table", ["audit_events", "audit_checkpoints", "audit_signing_keys", "audit_merkle_nodes"]
)
def test_postgresql_refuses_to_truncate_audit_tables(demo: DemoInstance, table: str) -> None:
    engine: Engine = demo.app.extensions["custodian.engine"]
    assert engine.dialect.name == "postgresql"
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {table} CASCADE"))


# The grants of the README's production section, for a role named {role}.
APP_ROLE_GRANTS = """
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role};
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_checkpoints, audit_signing_keys,
  audit_merkle_nodes FROM {role};
"""


@ONLY_POSTGRESQL
def test_the_documented_app_role_appends_and_checkpoints_but_cannot_disable_triggers(
    demo: DemoInstance,
) -> None:
    owner: Engine = demo.app.extensions["custodian.engine"]
    assert owner.dialect.name == "postgresql"
    role = f"app_{uuid4().hex[:10]}"
    with owner.begin() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(text(APP_ROLE_GRANTS.format(role=role)))
    url = owner.url.set(username=role).render_as_string(hide_password=False)
    app = create_app(
        replace(demo.settings, database_url=url, audit_checkpoint_every=2), clock=demo.clock
    )
    try:
        code, output = cli(
            DemoInstance(app, demo.clock, demo.settings, demo.base_url), "audit", "checkpoint"
        )
        assert code == 0, output
        response = app.test_client().post(
            "/api/v1/tokens", json={"name": "t", "days": 1}, headers=issue_token(demo, "researcher")
        )
        assert response.status_code == 201, response.get_json()
        engine: Engine = app.extensions["custodian.engine"]
        for statement in (
            "ALTER TABLE audit_events DISABLE TRIGGER USER",
            "UPDATE audit_events SET ip = 'x'",
            "TRUNCATE audit_checkpoints",
        ):
            with (
                pytest.raises(DBAPIError, match=r"must be owner|permission denied"),
                engine.begin() as connection,
            ):
                connection.execute(text(statement))
    finally:
        app.extensions["custodian.engine"].dispose()
        with owner.begin() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))
    assert cli(demo, "audit", "verify")[0] == 0


# Checkpoints every N events ----------------------------------------------------------------


def test_a_checkpoint_is_signed_in_the_transaction_of_every_nth_event(
    demo: DemoInstance, every_five: Flask
) -> None:
    factory = every_five.extensions["custodian.session_factory"]
    start = event_count(demo)
    with factory.begin() as session:
        for _ in range(11):
            record_event(session, SYSTEM, AuditAction.AUDIT_VERIFY, now=demo.clock.now())
    due = [size for size in range(start + 1, start + 12) if size % 5 == 0]
    assert checkpoint_sizes(every_five) == due
    with factory() as session:
        notes = {c.tree_size: c.note for c in session.scalars(select(AuditCheckpoint))}
    signer = CheckpointSigner.from_seed(
        demo.settings.audit_signing_key, origin=demo.settings.audit_origin, every=5
    )
    for size in due:
        signed, _ = open_checkpoint(notes[size], [signer.public_key])
        assert (signed.origin, signed.tree_size) == (demo.settings.audit_origin, size)


def test_a_rolled_back_action_takes_its_checkpoint_with_it(
    demo: DemoInstance, every_five: Flask
) -> None:
    factory = every_five.extensions["custodian.session_factory"]
    with factory() as session:
        for _ in range(5):
            record_event(session, SYSTEM, AuditAction.AUDIT_VERIFY, now=demo.clock.now())
        session.rollback()
    assert checkpoint_sizes(every_five) == []
    with factory.begin() as session:
        for _ in range(5):
            record_event(session, SYSTEM, AuditAction.AUDIT_VERIFY, now=demo.clock.now())
    assert len(checkpoint_sizes(every_five)) == 1


def test_an_on_demand_checkpoint_covers_its_own_event(demo: DemoInstance) -> None:
    before = event_count(demo)
    code, output = cli(demo, "audit", "checkpoint")
    assert code == 0, output
    assert output.splitlines()[:2] == [demo.settings.audit_origin, str(before + 1)]
    assert checkpoint_sizes(demo.app) == [before + 1]
    code, _ = cli(demo, "audit", "checkpoint")
    assert checkpoint_sizes(demo.app) == [before + 1, before + 2]


# Roles on every event ----------------------------------------------------------------------


def test_every_event_records_the_actors_roles_and_they_are_hashed(demo: DemoInstance) -> None:
    factory = demo.app.extensions["custodian.session_factory"]
    with factory.begin() as session:
        admin = session.scalars(select(User).where(User.subject == "admin")).one()
        event = record_event(
            session, Actor(user=admin).audit(), AuditAction.AUDIT_VERIFY, now=demo.clock.now()
        )
        anonymous = record_event(
            session, Actor(user=None).audit(), AuditAction.AUDIT_VERIFY, now=demo.clock.now()
        )
    assert (event.actor_roles, anonymous.actor_roles) == ("admin", "")
    seq = seq_of(factory, event.id)
    tamper_as_dba(
        demo, update(AuditEvent).where(AuditEvent.seq == seq).values(actor_roles="admin,auditor")
    )
    code, output = cli(demo, "audit", "verify")
    assert code == 1 and f"first bad event is seq {seq}" in output


# flask audit verify: chain and checkpoints ---------------------------------------------------


def test_verify_checks_every_checkpoint(
    demo: DemoInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Later checkpoints grow the tree from the nodes earlier ones stored (in batches)."""
    monkeypatch.setattr("audit.integrity.checkpoints.NODE_BATCH", 3)
    for _ in range(3):
        checkpoint(demo)
    code, output = cli(demo, "audit", "verify")
    assert code == 0, output
    assert "3 checkpoints verified" in output


def test_verify_fails_on_a_checkpoint_signed_by_another_key(demo: DemoInstance) -> None:
    size = checkpoint(demo)
    text_ = f"{demo.settings.audit_origin}\n{size}\n" + base64.b64encode(bytes(32)).decode() + "\n"
    forged = sign_note(
        text_, demo.settings.audit_origin, Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    )
    tamper_as_dba(
        demo, update(AuditCheckpoint).where(AuditCheckpoint.tree_size == size).values(note=forged)
    )
    code, output = cli(demo, "audit", "verify")
    assert code == 1
    assert f"FAILED: checkpoint {size}: no trusted key signed this checkpoint" in output


def test_verify_fails_when_the_rehashed_chain_no_longer_has_a_signed_root(
    demo: DemoInstance,
) -> None:
    """A DBA who rewrites an event and re-chains the rest passes the chain check only."""
    size = checkpoint(demo)
    factory = demo.app.extensions["custodian.session_factory"]
    with factory() as session:
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.seq >= 3).order_by(AuditEvent.seq))
        )
        prev = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 2))
    assert prev is not None
    statements = []
    for event in events:
        fields = hashed_fields(event) | ({"details": {"forged": True}} if event.seq == 3 else {})
        digest, leaf = event_hashes(prev, fields)
        statements.append(
            update(AuditEvent)
            .where(AuditEvent.seq == event.seq)
            .values(details=fields["details"], prev_hash=prev, hash=digest, leaf_hash=leaf)
        )
        prev = digest
    tamper_as_dba(demo, *statements)
    code, output = cli(demo, "audit", "verify")
    assert code == 1
    assert f"checkpoint {size}: the events no longer have the root it signed" in output


# Events recorded before revision 0002 --------------------------------------------------------


def test_events_recorded_before_the_upgrade_keep_verifying_and_get_leaves(
    fresh_database_url: str,
) -> None:
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine, "0001")
        prev = GENESIS_HASH
        moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
        rows = []
        for seq in (1, 2, 3):
            fields = {
                "seq": seq,
                "occurred_at": moment,
                "action": "auth:login",
                "outcome": "success",
                "actor_user_id": seq,
                "actor_issuer": "https://i",
                "actor_subject": f"s{seq}",
                "actor_token_id": None,
                "ip": "10.0.0.1",
                "user_agent": "ua",
                "request_id": "r",
                "target_type": "user",
                "target_id": str(seq),
                "details": {"n": seq},
            }
            # As revision 0001 hashed: no actor_roles, and the SEPARATE chain format.
            digest = event_hashes(prev, fields, SEPARATE)[0]
            rows.append({**fields, "prev_hash": prev, "hash": digest})
            prev = digest
        with engine.begin() as connection:
            connection.execute(insert(AuditEvent), rows)
            # As the 0001 code left it: the head row names the last event.
            connection.execute(
                text("UPDATE audit_chain_head SET seq = 3, hash = :hash"), {"hash": prev}
            )
        upgrade(engine)
        factory = make_session_factory(engine)
        signer = CheckpointSigner.from_seed(bytes(32), origin="example.org/audit", every=2)
        with factory.begin() as session:
            new = record_event(
                session, SYSTEM, AuditAction.AUDIT_VERIFY, now=moment + timedelta(seconds=1)
            )
            record_event(
                session, SYSTEM, AuditAction.AUDIT_VERIFY, now=moment + timedelta(seconds=2)
            )
        drain(factory, signer=signer)
        with factory() as session:
            assert verify_chain(session).ok
            assert verify_checkpoints(session, signer).checkpoints_checked == 1
            assert session.scalar(select(AuditEvent.actor_roles).where(AuditEvent.seq == 1)) is None
            stored = session.execute(
                select(AuditEvent.hash, AuditEvent.leaf_hash).order_by(AuditEvent.seq)
            ).all()
        # The chain goes on from the old format to the new one, and verifies across.
        assert [chain_format(*hashes) for hashes in stored] == [SEPARATE] * 3 + [LINKED] * 2
        assert seq_of(factory, new.id) == 4 and new.actor_roles == ""
    finally:
        engine.dispose()


# The integrity API ---------------------------------------------------------------------------


def test_integrity_routes_are_for_auditors_and_admins(
    demo: DemoInstance, client: FlaskClient
) -> None:
    routes = [route.format(size=checkpoint(demo)) for route in ROUTES]
    for route in routes:
        assert_error_shape(client.get(route), 401)
    researcher = issue_token(demo, "researcher")
    before = event_count(demo)
    for route in routes:
        assert_error_shape(client.get(route, headers=researcher), 403)
    with demo.app.extensions["custodian.session_factory"]() as session:
        refused = session.scalars(select(AuditEvent.action).where(AuditEvent.seq > before))
        assert [a for a in refused if a != "audit:alert"] == ["audit:refused"] * len(routes)
    for persona in ("auditor", "admin"):
        headers = issue_token(demo, persona)
        for route in routes:
            assert client.get(route, headers=headers).status_code == 200, (persona, route)


def test_checkpoints_are_listed_newest_first_in_keyset_pages(
    demo: DemoInstance, client: FlaskClient, auditor: dict[str, str]
) -> None:
    sizes = [checkpoint(demo) for _ in range(5)]
    first = client.get("/api/v1/audit/checkpoints?limit=2", headers=auditor).get_json()
    assert [c["tree_size"] for c in first["checkpoints"]] == sizes[:-3:-1]
    second = client.get(
        f"/api/v1/audit/checkpoints?limit=2&before={first['next']}", headers=auditor
    ).get_json()
    third = client.get(
        f"/api/v1/audit/checkpoints?limit=2&before={second['next']}", headers=auditor
    ).get_json()
    assert [c["tree_size"] for c in second["checkpoints"] + third["checkpoints"]] == sizes[-3::-1]
    assert third["next"] is None
    newest = first["checkpoints"][0]
    assert newest["note"].startswith(f"{demo.settings.audit_origin}\n{sizes[-1]}\n")
    assert set(newest) == {"tree_size", "root_hash", "key_id", "created_at", "note"}


def test_public_key_lists_the_current_key_and_the_rotated_out_ones(
    demo: DemoInstance, auditor: dict[str, str]
) -> None:
    checkpoint(demo)
    demo.clock.advance(timedelta(minutes=1))
    rotated = create_app(
        replace(demo.settings, audit_signing_key=bytes(range(32))), clock=demo.clock
    )
    try:
        body = rotated.test_client().get("/api/v1/audit/public-key", headers=auditor).get_json()
    finally:
        rotated.extensions["custodian.engine"].dispose()
    current, [previous] = body["current"], body["previous"]
    old_public = raw_public_key(
        Ed25519PrivateKey.from_private_bytes(demo.settings.audit_signing_key).public_key()
    )
    assert load_public_key_pem(previous["public_key_pem"].encode()) == old_public
    assert load_public_key_pem(current["public_key_pem"].encode()) == raw_public_key(
        Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key()
    )
    assert current["first_used_at"] is None  # it has not signed anything yet
    name, key_id, encoded = previous["verifier_key"].split("+", 2)
    assert (name, key_id) == (demo.settings.audit_origin, previous["key_id"])
    assert base64.b64decode(encoded) == b"\x01" + old_public


def test_an_inclusion_proof_of_every_event_verifies_against_the_signed_root(
    demo: DemoInstance, client: FlaskClient, auditor: dict[str, str]
) -> None:
    size = checkpoint(demo)
    key = load_public_key_pem(
        client.get("/api/v1/audit/public-key", headers=auditor)
        .get_json()["current"]["public_key_pem"]
        .encode()
    )
    for seq in range(1, size + 1):
        body = client.get(
            f"/api/v1/audit/events/{seq}/proof?tree_size={size}", headers=auditor
        ).get_json()
        signed, _ = open_checkpoint(body["checkpoint"], [key])
        assert (signed.tree_size, signed.root_hash.hex()) == (size, body["root_hash"])
        proof = [bytes.fromhex(digest) for digest in body["proof"]]
        leaf = bytes.fromhex(body["leaf_hash"])
        assert verify_inclusion(body["leaf_index"], size, leaf, proof, signed.root_hash), seq
        assert not verify_inclusion(
            body["leaf_index"], size, leaf_hash(b"forged"), proof, signed.root_hash
        )


def test_the_leaf_of_a_proof_is_the_event_itself(
    demo: DemoInstance, client: FlaskClient, auditor: dict[str, str]
) -> None:
    """Without tree_size the newest checkpoint is used; the leaf is the event's encoding,
    after the hash of the event before it (the LINKED chain format)."""
    checkpoint(demo)
    body = client.get("/api/v1/audit/events/2/proof", headers=auditor).get_json()
    with demo.app.extensions["custodian.session_factory"]() as session:
        event = session.get(AuditEvent, 2)
        assert event is not None
        assert (
            body["leaf_hash"]
            == leaf_hash(
                bytes.fromhex(event.prev_hash) + canonical_bytes(hashed_fields(event))
            ).hex()
        )
    assert body["tree_size"] == checkpoint_sizes(demo.app)[-1]


def test_a_consistency_proof_shows_a_later_checkpoint_extends_an_earlier_one(
    demo: DemoInstance, client: FlaskClient, auditor: dict[str, str]
) -> None:
    sizes = [checkpoint(demo) for _ in range(4)]
    for old in sizes:
        for new in sizes:
            if old > new:
                continue
            body = client.get(
                f"/api/v1/audit/consistency?from={old}&to={new}", headers=auditor
            ).get_json()
            proof = [bytes.fromhex(digest) for digest in body["proof"]]
            roots = bytes.fromhex(body["from_root"]), bytes.fromhex(body["to_root"])
            assert verify_consistency(old, new, *roots, proof), (old, new)
            if old < new:
                assert not verify_consistency(old, new, roots[1], roots[1], proof)


@pytest.mark.parametrize(
    "route, status",
    [
        ("/api/v1/audit/export?format=csv", 400),
        ("/api/v1/audit/checkpoints?limit=0", 400),
        ("/api/v1/audit/checkpoints?limit=many", 400),
        ("/api/v1/audit/checkpoints?before=-1", 400),
        ("/api/v1/audit/checkpoints?after=1", 400),
        ("/api/v1/audit/events/1/proof?tree_size=0", 400),
        ("/api/v1/audit/events/1/proof?tree_size=1.5", 400),
        (f"/api/v1/audit/events/1/proof?tree_size={2**64}", 400),
        ("/api/v1/audit/events/1/proof?tree_size=3", 404),
        ("/api/v1/audit/events/999999/proof", 404),
        (f"/api/v1/audit/events/{2**64}/proof", 404),
        ("/api/v1/audit/events/0/proof", 404),
        ("/api/v1/audit/consistency", 400),
        ("/api/v1/audit/consistency?from=2", 400),
        ("/api/v1/audit/consistency?from=x&to=2", 400),
        ("/api/v1/audit/consistency?from=9&to=3", 400),
        ("/api/v1/audit/consistency?from=1&to=2", 404),
    ],
)
def test_bad_proof_requests_get_a_clear_error(
    demo: DemoInstance, client: FlaskClient, auditor: dict[str, str], route: str, status: int
) -> None:
    checkpoint(demo)
    before = event_count(demo)
    assert_error_shape(client.get(route, headers=auditor), status)
    assert event_count(demo) == before


def test_an_event_after_the_checkpoint_asks_for_a_later_one(
    demo: DemoInstance, client: FlaskClient, auditor: dict[str, str]
) -> None:
    size = checkpoint(demo)
    checkpoint(demo)
    error = assert_error_shape(
        client.get(f"/api/v1/audit/events/{size + 1}/proof?tree_size={size}", headers=auditor), 400
    )
    assert "ask for a later checkpoint" in error["message"]
