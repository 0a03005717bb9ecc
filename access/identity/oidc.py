"""The OpenID Connect clients: authlib against each configured provider, found by discovery.

authlib handles state, nonce and PKCE (S256) and verifies the ID token's signature against
the provider's JWKS, its issuer against discovery, its expiry and nonce; the audience is
checked here (``check_audience``), since authlib checks it only through ``azp``. Each
provider is its own authlib client, which keeps a flow's state under that provider's name:
a state minted for one provider cannot finish a flow at another.
"""

from __future__ import annotations

from typing import Any

import requests as http
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, request, session
from werkzeug.wrappers import Response

from config import Settings
from config.identity import OidcProvider

CLOCK_SKEW_SECONDS = 60
SCOPE = "openid email profile"
# Which provider the pending flow began with; the one callback URL serves them all.
FLOW_PROVIDER = "sign_in_provider"
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                     "userinfo_endpoint")


class ProviderUnavailableError(Exception):
    """Discovery failed: the provider did not answer, or answered with no usable document."""


class IssuerMismatchError(ValueError):
    """The authorization response names another issuer than the provider the flow began at."""


class AudienceMismatchError(ValueError):
    """The ID token was not issued to this client (OpenID Connect Core 3.1.3.7, steps 3-5)."""


def install(app: Flask, settings: Settings) -> None:
    oauth = OAuth(app)
    for provider in settings.oidc_providers:
        oauth.register(
            provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "timeout": 10},
        )
    app.extensions["custodian.oauth"] = oauth


def providers() -> tuple[OidcProvider, ...]:
    settings: Settings = current_app.config["CUSTODIAN_SETTINGS"]
    return settings.oidc_providers


def provider_named(name: str) -> OidcProvider | None:
    return next((provider for provider in providers() if provider.name == name), None)


def begin(provider: OidcProvider, redirect_uri: str) -> Response:
    """Redirect to the provider; raises ProviderUnavailableError when discovery fails."""
    client = _client(provider.name)
    _metadata(client)
    response: Response = client.authorize_redirect(redirect_uri)
    session[FLOW_PROVIDER] = provider.name
    return response


def finish() -> tuple[OidcProvider, str, dict[str, Any]]:
    """Redeem the callback at the provider the flow began with; returns it, the issuer and
    the claims."""
    provider = provider_named(str(session.get(FLOW_PROVIDER)))
    if provider is None:
        raise MismatchingStateError()
    client = _client(provider.name)
    metadata = _metadata(client)
    _check_response_issuer(metadata)
    token = client.authorize_access_token(leeway=CLOCK_SKEW_SECONDS)
    if "userinfo" not in token:
        raise ValueError("the provider returned no ID token")
    claims: dict[str, Any] = dict(token["userinfo"])
    check_audience(claims, provider.client_id)
    extra = client.userinfo(token=token)
    if extra.get("sub") == claims["sub"]:
        claims = {**extra, **claims}  # the ID token's verified claims win over userinfo
    return provider, str(metadata["issuer"]), claims


def check_audience(claims: dict[str, Any], client_id: str) -> None:
    """Our client id must be in ``aud``; beside other audiences ``azp`` must name us; and an
    ``azp`` present must always be ours.

    authlib demands ``azp`` when ``aud`` is not exactly us but never looks for us in
    ``aud``, so a token for another client that names us in ``azp`` would pass it.
    """
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise AudienceMismatchError("the ID token's aud is not a string or a list of strings")
    if client_id not in audiences:
        raise AudienceMismatchError("the ID token was issued to another client")
    authorized = claims.get("azp")
    if len(audiences) > 1 and authorized is None:
        raise AudienceMismatchError("an ID token for several audiences must name azp")
    if authorized is not None and authorized != client_id:
        raise AudienceMismatchError("the ID token was issued to another authorized party")


def _metadata(client: Any) -> dict[str, Any]:
    """The provider's discovery document, which authlib keeps only once it is usable.

    authlib caches any JSON object it gets: an error object from a provider in the middle
    of an outage would otherwise break sign-in until the service restarts.
    """
    try:
        metadata: dict[str, Any] = client.load_server_metadata()
    except (http.RequestException, TypeError) as exc:  # TypeError: JSON but not an object
        raise ProviderUnavailableError(type(exc).__name__) from exc
    if not all(isinstance(metadata.get(key), str) for key in REQUIRED_METADATA):
        client.server_metadata.clear()
        raise ProviderUnavailableError("the discovery document lacks required endpoints")
    return metadata


def _check_response_issuer(metadata: dict[str, Any]) -> None:
    """RFC 9207: a provider that names itself in its answer must be the one we sent the user to.

    This refuses a mix-up, where one provider's answer is used to finish a flow begun at
    another, before any code is sent anywhere.
    """
    returned = request.args.get("iss")
    if returned is None and not metadata.get("authorization_response_iss_parameter_supported"):
        return
    if returned != metadata["issuer"]:
        raise IssuerMismatchError("the answer came from another identity provider")


def _client(name: str) -> Any:
    return current_app.extensions["custodian.oauth"].create_client(name)
