"""Who am I: ``GET /api/v1/users/me`` for the signed-in user or the token's owner."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from access.identity.current_actor import current_actor
from access.identity.schemas import UserOut, WhoAmIOut
from access.identity.sessions import end_all_sessions
from core.scopes import Scope
from core.web.api_docs import documented
from core.web.csrf import csrf_token
from core.web.request_scope import clock, db_session

api = Blueprint("identity_api", __name__, url_prefix="/api/v1")


@api.get("/users/me")
@documented("Who am I: the signed-in user, their roles and the CSRF token for POSTs",
            response=WhoAmIOut)
def who_am_i() -> Response:
    actor = current_actor()
    user = actor.require_user()
    body = UserOut().dump(user)
    body["roles"] = sorted({assignment.role for assignment in user.roles})
    # Scripts using the session cookie need the CSRF token for their POSTs; cross-site
    # pages cannot read this response, so handing it out here is safe.
    body["csrf_token"] = csrf_token()
    return jsonify(body)


@api.delete("/users/me/sessions")
@documented("Sign out everywhere: end every browser session of mine (tokens stay)",
            status=204, scope=Scope.TOKENS)
def end_my_sessions() -> tuple[str, int]:
    actor = current_actor()
    end_all_sessions(db_session(), actor, actor.require_user().id, now=clock().now(),
                     reason="user")
    return "", 204
