"""The authlib authorization server behind the development identity provider.

It is a real OpenID Connect provider (authorization code flow, PKCE S256 required,
confidential client, RS256 tokens), so the app's OIDC client signs in against it exactly
as it would against Keycloak. authlib is untyped, hence the ``type: ignore[misc]`` on the
classes that extend it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, cast

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, OAuth2Error, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from flask import Response
from sqlalchemy import delete, select

from access.identity.devidp.keys import ALGORITHM, TokenSigner, identity_claims, load_signing_key
from access.identity.devidp.models import DevIdpAuthorizationCode
from access.identity.personas import PERSONAS_BY_USERNAME, Persona
from config import Settings
from config.identity import DEV_IDP_CLIENT_ID
from core.web.request_scope import clock, db_session

SCOPES_SUPPORTED = ("openid", "profile", "email")
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
CODE_LIFETIME = timedelta(minutes=5)
CALLBACK_PATH = "/auth/callback"
CLAIMS_SUPPORTED = (
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
    "name", "email", "email_verified", "institution",
)


@dataclass(frozen=True)
class DevIdpClient:
    """The one registered relying party, the app itself: confidential, one exact redirect URI."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OpenID Connect makes redirect_uri mandatory, so there is no fallback.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        requested = (scope or "").split()
        if "openid" not in requested:
            return None
        return " ".join(name for name in requested if name in SCOPES_SUPPORTED)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in TOKEN_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class _AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    """Codes live in the request's database session; the app commits them with the response."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(TOKEN_AUTH_METHODS)

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        now = clock().now()
        db_session().add(
            DevIdpAuthorizationCode(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                nonce=data.get("nonce") or None,
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                subject=request.user.username,
                auth_time=now,
                expires_at=now + CODE_LIFETIME,
            )
        )
        db_session().flush()

    def query_authorization_code(
        self, code: str, client: DevIdpClient
    ) -> DevIdpAuthorizationCode | None:
        found = db_session().scalars(
            select(DevIdpAuthorizationCode).where(
                DevIdpAuthorizationCode.code == code,
                DevIdpAuthorizationCode.client_id == client.client_id,
            )
        ).one_or_none()
        if found is None or found.is_expired(clock().now()):
            return None
        return found

    def delete_authorization_code(self, authorization_code: DevIdpAuthorizationCode) -> None:
        """Delete by statement and count: of two concurrent exchanges, only one deletes a row."""
        result = db_session().execute(
            delete(DevIdpAuthorizationCode).where(
                DevIdpAuthorizationCode.id == authorization_code.id
            )
        )
        if getattr(result, "rowcount", 0) != 1:
            raise InvalidGrantError("The authorization code was already used.")

    def authenticate_user(self, authorization_code: DevIdpAuthorizationCode) -> Persona | None:
        return PERSONAS_BY_USERNAME.get(authorization_code.subject)


class _S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 on every request: authlib alone would accept none, or plain."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send a code_challenge (method S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    """Adds the ID token, signed with the provider key and carrying its kid."""

    def __init__(self, signer: TokenSigner) -> None:
        super().__init__(require_nonce=False)
        self._signer = signer

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        pending = db_session().scalar(
            select(DevIdpAuthorizationCode.id)
            .where(
                DevIdpAuthorizationCode.nonce == nonce,
                DevIdpAuthorizationCode.client_id == request.payload.client_id,
            )
            .limit(1)
        )
        return pending is not None

    def resolve_client_private_key(self, client: DevIdpClient) -> Any:
        return self._signer.key

    def get_client_algorithm(self, client: DevIdpClient) -> str:
        return ALGORITHM

    def get_encode_header(self, client: DevIdpClient) -> dict[str, str]:
        return self._signer.header()

    def get_client_claims(self, client: DevIdpClient) -> dict[str, Any]:
        return {"iss": self._signer.issuer, "aud": client.get_client_id()}

    def generate_user_info(self, user: Persona, scope: str) -> dict[str, Any]:
        return identity_claims(user)


@dataclass(frozen=True)
class DevIdentityProvider:
    """Everything the views need, built once per blueprint; wraps authlib's untyped calls."""

    issuer: str
    client: DevIdpClient
    signer: TokenSigner
    server: Any

    def discovery_document(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
            "scopes_supported": list(SCOPES_SUPPORTED),
            "claims_supported": list(CLAIMS_SUPPORTED),
        }

    def userinfo_claims(self, persona: Persona) -> dict[str, Any]:
        return {**identity_claims(persona), "institution": persona.institution}

    def consent_grant(self) -> Any:
        """Validate the current authorization request; raises authlib's OAuth2Error."""
        return self.server.get_consent_grant(end_user=None)

    def authorization_response(self, grant: Any, persona: Persona) -> Response:
        response = self.server.create_authorization_response(grant_user=persona, grant=grant)
        return cast(Response, response)

    def token_response(self) -> Response:
        try:
            return cast(Response, self.server.create_token_response())
        except OAuth2Error as error:
            # authlib builds its request object outside its own error handling (https check).
            return self.error_response(error)

    def error_response(self, error: OAuth2Error) -> Response:
        return cast(Response, self.server.handle_error_response(None, error))


def create_provider(settings: Settings) -> DevIdentityProvider:
    """Build the provider from settings; refuses to run outside demo mode."""
    if not settings.dev_idp_enabled or not settings.is_demo:
        raise RuntimeError("the development identity provider only runs in demo mode")
    if not settings.dev_idp_client_secret:
        raise RuntimeError("the development identity provider needs a client secret")
    client = DevIdpClient(
        client_id=_client_id(settings),
        client_secret=settings.dev_idp_client_secret,
        redirect_uri=settings.public_url + CALLBACK_PATH,
    )
    signer = TokenSigner(
        issuer=settings.dev_idp_issuer,
        audience=client.client_id,
        key=load_signing_key(settings.dev_idp_private_key_pem),
    )
    return DevIdentityProvider(
        issuer=settings.dev_idp_issuer,
        client=client,
        signer=signer,
        server=_authorization_server(client, signer),
    )


def _client_id(settings: Settings) -> str:
    """The client id of the provider entry that points here (``custodian`` unless overridden)."""
    discovery = f"{settings.dev_idp_issuer}/.well-known/openid-configuration"
    return next((provider.client_id for provider in settings.oidc_providers
                 if provider.discovery_url == discovery), DEV_IDP_CLIENT_ID)


def _authorization_server(client: DevIdpClient, signer: TokenSigner) -> Any:
    def query_client(client_id: str) -> DevIdpClient | None:
        return client if client_id == client.client_id else None

    def save_token(token: dict[str, Any], request: Any) -> None:
        """Tokens are self-contained JWTs; there is nothing to store."""

    server = AuthorizationServer(query_client=query_client, save_token=save_token)
    server.scopes_supported = list(SCOPES_SUPPORTED)
    server.register_token_generator("default", signer.issue_access_token)
    extensions = [_S256CodeChallenge(required=True), _OpenIDCode(signer)]
    server.register_grant(_AuthorizationCodeGrant, extensions)
    return server
