"""Events stored by the first release keep verifying after every upgrade, byte for byte.

The hashes below are literals, computed once by the first release's encoder (audit/chain.py
of commit b168533, the commit that added revision 0001), never by today's code:

    git show b168533:audit/chain.py > first_chain.py
    python -c "from first_chain import chain_hash; ..."   # over the EVENTS below

A test that recomputed them with today's encoder would follow any change to it; a changed
encoder would then pass every test and break every log already stored. The leaf hashes are
what revision 0002 must backfill: SHA-256(0x00 ‖ the same canonical bytes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Engine,
    Executable,
    Integer,
    String,
    column,
    insert,
    select,
    table,
    text,
    update,
)

from audit.integrity.chain_check import verify_chain
from audit.log.append import hashed_fields
from audit.log.chain import SEPARATE, canonical_bytes, chain_format, event_hashes
from audit.log.models import GENESIS_HASH, AuditEvent
from core.db import UTCDateTime, make_engine, make_session_factory
from core.migrations import upgrade

EVENTS: list[dict[str, Any]] = [
    {"seq": 1, "occurred_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
     "action": "auth:login", "outcome": "success", "actor_user_id": 1,
     "actor_issuer": "https://idp.example.org", "actor_subject": "anaïs",
     "actor_token_id": None, "ip": "192.0.2.10", "user_agent": 'Mozilla/5.0 "quoted" \\ tab\t',
     "request_id": "req-1", "target_type": "user", "target_id": "1",
     "details": {"email": "anaïs@example.org", "name": "Anaïs Müller 研究"}},
    {"seq": 2, "occurred_at": datetime(2026, 1, 2, 3, 5, 0, tzinfo=UTC),
     "action": "url:issue", "outcome": "success", "actor_user_id": 1,
     "actor_issuer": "https://idp.example.org", "actor_subject": "anaïs",
     "actor_token_id": 3, "ip": "2001:db8::1", "user_agent": None,
     "request_id": "req-2", "target_type": "file", "target_id": "7",
     "details": {"dataset_id": 2, "expires_at": "2026-01-02T03:20:00+00:00"}},
    {"seq": 3, "occurred_at": datetime(2026, 1, 2, 3, 6, 7, 1, tzinfo=UTC),
     "action": "url:refuse", "outcome": "denied", "actor_user_id": None,
     "actor_issuer": None, "actor_subject": None, "actor_token_id": None,
     "ip": None, "user_agent": None, "request_id": None, "target_type": "file",
     "target_id": "8", "details": {"dataset_id": 3, "grant_id": None, "reason": "no_grant",
                                   "nested": {"b": [1, 2.5, True], "a": "\u2028"}}},
]
# The canonical bytes of each, as the first release encoded them.
CANONICAL = [
    '{"action":"auth:login","actor_issuer":"https://idp.example.org","actor_subject":"anaïs",'
    '"actor_token_id":null,"actor_user_id":1,"details":{"email":"anaïs@example.org",'
    '"name":"Anaïs Müller 研究"},"ip":"192.0.2.10","occurred_at":"2026-01-02T03:04:05.678901Z",'
    '"outcome":"success","request_id":"req-1","seq":1,"target_id":"1","target_type":"user",'
    '"user_agent":"Mozilla/5.0 \\"quoted\\" \\\\ tab\\t"}',
    '{"action":"url:issue","actor_issuer":"https://idp.example.org","actor_subject":"anaïs",'
    '"actor_token_id":3,"actor_user_id":1,"details":{"dataset_id":2,'
    '"expires_at":"2026-01-02T03:20:00+00:00"},"ip":"2001:db8::1",'
    '"occurred_at":"2026-01-02T03:05:00.000000Z","outcome":"success","request_id":"req-2",'
    '"seq":2,"target_id":"7","target_type":"file","user_agent":null}',
    '{"action":"url:refuse","actor_issuer":null,"actor_subject":null,"actor_token_id":null,'
    '"actor_user_id":null,"details":{"dataset_id":3,"grant_id":null,"nested":{"a":"\u2028",'
    '"b":[1,2.5,true]},"reason":"no_grant"},"ip":null,"occurred_at":"2026-01-02T03:06:07.000001Z",'
    '"outcome":"denied","request_id":null,"seq":3,"target_id":"8","target_type":"file",'
    '"user_agent":null}',
]
HASHES = ["09201e2fddfc53c8fead9e592e769902f0e4a2bd70654d76182b6c8b25fbe6c3",
          "cf1e2e6531cd25ea71e04efa06b3ebae8b57b4931b9832795260cf126f7fb968",
          "e62946f21fb1d66e2467c0eea044ce266cd08fb963090102bf0426d6f51fc15a"]
LEAVES = ["9779646929b86e69f5c315ee8b5d6ea75522da4656a79a7aee74d48359099622",
          "a7a0868c3a84684a2ab443725aacfab6662c3d0860b770a6058c76967053b95d",
          "79784368f784c994963b920dcb69046729d91ace9682ccf5ac3b5894640d7fb8"]
PREVIOUS = [GENESIS_HASH, *HASHES[:-1]]

# audit_events as revision 0001 created it: no roles, no leaf hash.
FIRST_EVENTS_TABLE = table(
    "audit_events", column("seq", Integer), column("occurred_at", UTCDateTime()),
    *(column(name, String) for name in ("action", "outcome", "actor_issuer", "actor_subject",
                                         "ip", "user_agent", "request_id", "target_type",
                                         "target_id", "prev_hash", "hash")),
    column("actor_user_id", Integer), column("actor_token_id", Integer), column("details", JSON),
)


def test_the_pinned_vectors_are_what_they_claim() -> None:
    """The literals agree with each other, so a typo in them cannot pass for a break."""
    for canonical, previous, digest, leaf in zip(CANONICAL, PREVIOUS, HASHES, LEAVES,
                                                 strict=True):
        encoded = canonical.encode("utf-8")
        assert hashlib.sha256(bytes.fromhex(previous) + encoded).hexdigest() == digest
        assert hashlib.sha256(b"\x00" + encoded).hexdigest() == leaf


@pytest.mark.parametrize("index", range(len(EVENTS)))
def test_todays_encoder_gives_the_first_releases_bytes_and_hashes(index: int) -> None:
    event = EVENTS[index]
    assert canonical_bytes(event).decode("utf-8") == CANONICAL[index]
    assert event_hashes(PREVIOUS[index], event, SEPARATE) == (HASHES[index], LEAVES[index])


@pytest.fixture
def first_release_log(fresh_database_url: str) -> Iterator[Engine]:
    """A database at revision 0001 holding the events as the first release stored them."""
    engine = make_engine(fresh_database_url)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(insert(FIRST_EVENTS_TABLE), [
            {**event, "prev_hash": previous, "hash": digest}
            for event, previous, digest in zip(EVENTS, PREVIOUS, HASHES, strict=True)])
        connection.execute(text("UPDATE audit_chain_head SET seq = 3, hash = :hash"),
                           {"hash": HASHES[-1]})
    yield engine
    engine.dispose()


def test_events_stored_by_the_first_release_verify_unchanged_after_upgrade(
    first_release_log: Engine,
) -> None:
    upgrade(first_release_log)
    with make_session_factory(first_release_log)() as session:
        stored = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        report = verify_chain(session)
    assert report.ok, report.problem
    assert report.events_checked == 3
    assert [(e.prev_hash, e.hash) for e in stored] == list(zip(PREVIOUS, HASHES, strict=True))
    assert [e.leaf_hash for e in stored] == LEAVES  # backfilled by revision 0002
    assert [chain_format(e.hash, e.leaf_hash) for e in stored] == [SEPARATE] * 3
    assert [canonical_bytes(hashed_fields(e)).decode() for e in stored] == CANONICAL
    assert [e.actor_roles for e in stored] == [None] * 3


def tamper(engine: Engine, statement: Executable) -> None:
    """As the database owner would: the append-only triggers off (PostgreSQL) or dropped."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            for trigger in connection.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all():
                connection.execute(text(f"DROP TRIGGER {trigger}"))
        connection.execute(statement)
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


@pytest.mark.parametrize("change, problem", [
    ({"leaf_hash": "ab" * 32}, "event 2 has a Merkle leaf hash that does not match its content"),
    ({"target_id": "70"}, "event 2 was altered: its content no longer matches its hash"),
], ids=["leaf", "content"])
def test_a_first_release_event_changed_after_upgrade_is_named_for_what_changed(
    first_release_log: Engine, change: dict[str, str], problem: str
) -> None:
    upgrade(first_release_log)
    tamper(first_release_log, update(AuditEvent).where(AuditEvent.seq == 2).values(**change))
    with make_session_factory(first_release_log)() as session:
        report = verify_chain(session)
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 2, problem)
