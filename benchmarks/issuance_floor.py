"""The second yardstick of benchmarks/signed_urls.py: the least any Flask app can do to issue an
audited signed URL, served by gunicorn with the service's own settings, on the service's
own database.

Per request it does only what an issuance cannot do without: the token's hash looked up
with its scopes, user, roles, the file, the live grant and the agreement still to accept in
one statement (built from the service's own expressions, so it asks what the service asks);
the ``url:issue`` event queued by one insert in autocommit (one round trip, no BEGIN and no
COMMIT of its own); an HMAC signature; a JSON answer. No request id, security headers, CSRF,
scopes, metrics, rate limits, error shapes or refusal events, no ORM and no pool: a
persistent psycopg connection per worker. The service's sequencer chains its events as it
chains its own, so the sequencer's CPU is in both figures; but it runs as a thread in one of
the service's workers, idle while the floor is measured, so the floor does not pay the GIL
that thread takes from a worker serving requests. That favours the floor a little.

Not a product path (its refusals are bare and unaudited): it measures how far the machine,
gunicorn, Flask, PostgreSQL's durable commit and the sequencer let a URL issuance go, and
so what the service's own figure is bounded by. Its events carry a request id starting with
``FLOOR_REQUEST_ID``, which the service never produces (core/web/request_id.py allows no
colon), so that the benchmark counts the service's events apart from them. It imports the
audit queue's private insert and row builder on purpose: its events must be the service's.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from flask import Flask, Response, jsonify, request
from sqlalchemy import Integer, String, bindparam, func, select
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from access.grants import live_grant_exists
from access.identity.models import RoleAssignment, User
from access.models import ApiToken
from access.tokens import TOKEN_PREFIX
from audit.log.actions import AuditAction, Outcome
from audit.log.append import _QUEUE_INSERT, AuditActor, _queue_row
from audit.log.sequencer import _as_stored
from core.db import UTCDateTime
from core.scopes import Scope, decode_scopes
from datasets.agreements.versions import pending_version_of
from datasets.catalogue.models import DataFile

FLOOR_REQUEST_ID = "floor:"
_DIALECT = psycopg_dialect.dialect()  # type: ignore[no-untyped-call]
_NOW = bindparam("now", type_=UTCDateTime())
_ROLES = (select(func.string_agg(RoleAssignment.role, ","))
          .where(RoleAssignment.user_id == User.id).scalar_subquery())
_ISSUANCE = (
    select(ApiToken.id, ApiToken.scopes, User.id, User.issuer, User.subject, _ROLES,
           DataFile.id, DataFile.dataset_id, DataFile.retired_at, DataFile.storage_key,
           live_grant_exists(User.id, DataFile.dataset_id, _NOW),
           pending_version_of(User.id, DataFile.dataset_id))
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(DataFile, DataFile.id == bindparam("file_id", type_=Integer))
    .where(ApiToken.token_hash == bindparam("token_hash", type_=String),
           ApiToken.revoked_at.is_(None), ApiToken.expires_at > _NOW)
).compile(dialect=_DIALECT)
_ISSUANCE_SQL = _ISSUANCE.string
_EVENT_COLUMNS = list(_queue_row(AuditActor(), AuditAction.URL_ISSUE, now=datetime.now(UTC),
                                 outcome=Outcome.SUCCESS, target_type=None, target_id=None,
                                 details=None))
_QUEUE_SQL = _QUEUE_INSERT.compile(dialect=_DIALECT, column_keys=_EVENT_COLUMNS).string
_SIGNING_KEY = os.urandom(32)
_LIFETIME = timedelta(minutes=5)


def create_app() -> Flask:
    app = Flask(__name__)
    database_url = os.environ["FLOOR_DATABASE_URL"]
    connection: psycopg.Connection[Any] | None = None

    @app.get("/api/v1/files/<int:file_id>/url")
    def signed_url(file_id: int) -> Response | tuple[Response, int]:
        nonlocal connection
        if connection is None:  # after the fork: one connection per worker
            connection = psycopg.connect(database_url, autocommit=True)
        now = datetime.now(UTC)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:  # as find_live_token
            return jsonify(error="not_authenticated"), 401
        row = connection.execute(_ISSUANCE_SQL, {
            **_ISSUANCE.params, "now": _as_stored(now, _DIALECT), "file_id": file_id,
            "token_hash": hashlib.sha256(token.encode()).hexdigest()}).fetchone()
        if row is None:
            return jsonify(error="not_authenticated"), 401
        (token_id, scopes, user_id, issuer, subject, roles, found, dataset_id, retired_at,
         storage_key, live_grant, pending_agreement) = row
        if Scope.DOWNLOAD not in decode_scopes(scopes):
            return jsonify(error="insufficient_scope"), 403
        if (found is None or retired_at is not None or not live_grant
                or pending_agreement is not None):
            return jsonify(error="forbidden"), 403
        expires_at = now + _LIFETIME
        actor = AuditActor(user_id=user_id, issuer=issuer, subject=subject, token_id=token_id,
                           roles=tuple(roles.split(",")) if roles else (), ip=request.remote_addr,
                           user_agent=request.user_agent.string,
                           request_id=FLOOR_REQUEST_ID + uuid.uuid4().hex)
        event = _queue_row(actor, AuditAction.URL_ISSUE, now=now, outcome=Outcome.SUCCESS,
                           target_type="file", target_id=file_id,
                           details={"dataset_id": dataset_id,
                                    "expires_at": expires_at.isoformat()})
        connection.execute(_QUEUE_SQL, {k: _as_stored(v, _DIALECT) for k, v in event.items()})
        expires = int(expires_at.timestamp())
        signature = hmac.new(_SIGNING_KEY, f"{storage_key}:{expires}:{user_id}-t{token_id}"
                             .encode(), hashlib.sha256).hexdigest()
        return jsonify(url=f"{request.host_url}storage/{storage_key}?expires={expires}"
                           f"&user={user_id}-t{token_id}&signature={signature}",
                       expires_at=expires_at.isoformat())

    return app
