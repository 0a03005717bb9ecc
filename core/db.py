"""The one declarative Base, engine construction and the per-request session."""

from __future__ import annotations

import functools
import json
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.field_encryption import maintain_lookups

# Stable constraint names, so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# JSON columns hold the canonical text (sorted keys, no spaces, UTF-8 as is), so the audit
# verifier can hash an event's details as stored instead of parsing each (audit/log/chain.py).
canonical_json = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, and we never want local time."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Encrypted columns that are searched by value keep their lookup hashes current.
maintain_lookups(Base)


def make_engine(
    url: str, *, pool_size: int = 5, max_overflow: int = 10, pool_timeout: int = 10
) -> Engine:
    """An engine with the per-dialect settings we rely on."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 30}, hide_parameters=True, json_serializer=canonical_json
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    # hide_parameters: error messages (and so logs) never carry emails, hashes or details.
    engine = create_engine(
        url,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=1800,
        # The connection checked in last goes out first: in steady use it is the one just
        # proven alive, and the others stay idle long enough to be pinged (below).
        pool_use_lifo=True,
        json_serializer=canonical_json,
    )
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


# A connection that sat in the pool longer than this is tested as it leaves it, and
# replaced if dead: one lost while idle (database restart, failover) is retried, unseen.
# Testing every checkout (pool_pre_ping) cost each request a round trip, a twelfth of a
# URL issuance's Python time; a connection checked in less than a second ago was just
# proven alive. One lost in that second fails its statement, and SQLAlchemy then drops
# every connection of the pool, so the next checkout connects afresh; a failed ping drops
# them all too (InvalidatePoolError), as pool_pre_ping did: a restart killed them all.
IDLE_PING_SECONDS = 1.0
_CHECKED_IN = "custodian.checked_in"


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(dialect: Dialect, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    checked_in = record.info.get(_CHECKED_IN)
    if checked_in is None or time.monotonic() - checked_in < IDLE_PING_SECONDS:
        return  # just connected, or in steady use
    try:
        alive = dialect.do_ping(dbapi_connection)
    except Exception as error:  # any failure of the ping means: replace it
        # The pool's documented answer: discard its connections, check out a fresh one.
        raise exc.InvalidatePoolError("an idle connection failed its ping") from error
    if not alive:
        raise exc.InvalidatePoolError("an idle connection failed its ping")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # WAL lets page reads go on while a request writes; the demo serves several threads.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
