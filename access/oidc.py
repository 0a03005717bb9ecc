"""The OpenID Connect client: authlib against any provider named by a discovery URL.

authlib handles state, nonce and PKCE (S256) and verifies the ID token's signature against
the provider's JWKS, its issuer against discovery, its audience, expiry and nonce.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from config import Settings

PROVIDER = "oidc"
CLOCK_SKEW_SECONDS = 60


def install(app: Flask, settings: Settings) -> None:
    oauth = OAuth(app)
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_discovery_url,
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                       "timeout": 10},
    )
    app.extensions["custodian.oauth"] = oauth


def client() -> Any:
    return current_app.extensions["custodian.oauth"].create_client(PROVIDER)


def issuer() -> str:
    metadata: dict[str, Any] = client().load_server_metadata()
    return str(metadata["issuer"])
