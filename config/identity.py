"""Identity settings: the OIDC providers users sign in with, the key that signs our GA4GH
visas, and the Passport brokers we trust."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import (
    load_pem_private_key,
)

from config.env import PREFIX, EnvReader, SettingsError

SINGLE_PROVIDER_NAME = "default"
DEV_IDP_CLIENT_ID = "custodian"
CLAIM_NAME = re.compile(r"[A-Za-z0-9_.:/-]{1,100}")
PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)


@dataclass(frozen=True)
class OidcProvider:
    """An identity provider users may sign in with; ``name`` is its URL segment and env infix."""

    name: str
    label: str
    discovery_url: str
    client_id: str
    client_secret: str = field(repr=False)
    # The claim that names the user's institution (by ROR id or name); "" for none.
    institution_claim: str = "institution"


@dataclass(frozen=True)
class TrustedBroker:
    """A Passport broker whose visas we accept, and the only key-set URLs (jku) we fetch for it."""

    issuer: str
    jkus: tuple[str, ...]


def _visa_signing_key(env: EnvReader, demo_secrets: Mapping[str, str]) -> str:
    """Optional outside demo mode: without it the service issues no visas (and says so)."""
    if not (env.has("VISA_SIGNING_KEY") or env.has("VISA_SIGNING_KEY_FILE")
            or "VISA_SIGNING_KEY" in demo_secrets):
        return ""
    pem = env.secret("VISA_SIGNING_KEY", demo_secrets, min_length=1)
    _check_visa_key(pem, "VISA_SIGNING_KEY")
    return pem


def _previous_visa_keys(env: EnvReader) -> tuple[str, ...]:
    """VISA_SIGNING_KEY_PREVIOUS(_FILE): PEM blocks one after another; published, never used."""
    value = env.text("VISA_SIGNING_KEY_PREVIOUS", default="")
    file_name = env.text("VISA_SIGNING_KEY_PREVIOUS_FILE", default="")
    if not value and file_name:
        try:
            value = Path(file_name).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"{PREFIX}VISA_SIGNING_KEY_PREVIOUS_FILE: cannot read "
                                f"{file_name}: {exc.strerror}") from None
    blocks = tuple(PEM_BLOCK.findall(value))
    if value.strip() and not blocks:
        raise SettingsError(f"{PREFIX}VISA_SIGNING_KEY_PREVIOUS must hold PEM private keys")
    for block in blocks:
        _check_visa_key(block, "VISA_SIGNING_KEY_PREVIOUS")
    return blocks


def _check_visa_key(pem: str, name: str) -> None:
    """RS256 wants RSA of 2048 bits or more; ES256 wants P-256: the two GA4GH brokers use."""
    problem = f"{PREFIX}{name} must be an RSA (2048 bits or more) or EC P-256 private key in PEM"
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(problem) from None
    if isinstance(key, RSAPrivateKey) and key.key_size >= 2048:
        return
    if isinstance(key, EllipticCurvePrivateKey) and isinstance(key.curve, SECP256R1):
        return
    raise SettingsError(problem)


def _trusted_brokers(env: EnvReader) -> tuple[TrustedBroker, ...]:
    """PASSPORT_TRUSTED_BROKERS: ``{"<issuer>": ["<jku>", ...], ...}`` as JSON."""
    name = f"{PREFIX}PASSPORT_TRUSTED_BROKERS"
    raw = env.text("PASSPORT_TRUSTED_BROKERS", default="")
    if not raw:
        return ()
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise SettingsError(f"{name} must be JSON: {{\"issuer\": [\"jku\", ...]}}") from None
    if not isinstance(parsed, dict):
        raise SettingsError(f"{name} must be a JSON object mapping issuers to lists of jku URLs")
    brokers = []
    for issuer, jkus in parsed.items():
        if not _is_http_url(issuer):
            raise SettingsError(f"{name}: issuer {issuer!r} is not an http(s) URL")
        if not isinstance(jkus, list) or not jkus or not all(_is_http_url(u) for u in jkus):
            raise SettingsError(f"{name}: {issuer!r} needs a non-empty list of http(s) jku URLs")
        brokers.append(TrustedBroker(issuer=issuer, jkus=tuple(jkus)))
    return tuple(brokers)


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _oidc_providers(
    env: EnvReader, dev_idp_discovery: str | None, dev_idp_secret: str | None
) -> tuple[OidcProvider, ...]:
    """Providers by name from OIDC_PROVIDERS, or else one from the single-provider variables."""
    listed = env.text("OIDC_PROVIDERS", default="")
    if not listed:
        return (OidcProvider(
            name=SINGLE_PROVIDER_NAME,
            label="Sign in",
            discovery_url=env.url("OIDC_DISCOVERY_URL", default=dev_idp_discovery),
            client_id=env.text(
                "OIDC_CLIENT_ID", default=DEV_IDP_CLIENT_ID if dev_idp_secret else None),
            client_secret=(
                dev_idp_secret if dev_idp_secret and not env.has("OIDC_CLIENT_SECRET")
                else env.secret("OIDC_CLIENT_SECRET", {}, min_length=1)
            ),
            institution_claim=_claim_name(env, "OIDC_INSTITUTION_CLAIM"),
        ),)
    for single in ("OIDC_DISCOVERY_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET",
                   "OIDC_CLIENT_SECRET_FILE", "OIDC_INSTITUTION_CLAIM"):
        if env.has(single):
            raise SettingsError(
                f"{PREFIX}{single} cannot be combined with {PREFIX}OIDC_PROVIDERS: configure "
                f"each listed provider with {PREFIX}OIDC_<NAME>_* variables instead"
            )
    names = [part.strip().lower() for part in listed.split(",")]
    for name in names:
        if not PROVIDER_NAME.fullmatch(name):
            raise SettingsError(
                f"{PREFIX}OIDC_PROVIDERS: {name!r} is not a provider name (a letter, then up "
                "to 31 letters, digits or underscores)"
            )
    if len(set(names)) < len(names):
        raise SettingsError(f"{PREFIX}OIDC_PROVIDERS lists a provider more than once")
    return tuple(_named_provider(env, name) for name in names)


def _named_provider(env: EnvReader, name: str) -> OidcProvider:
    infix = f"OIDC_{name.upper()}_"
    return OidcProvider(
        name=name,
        label=env.text(f"{infix}LABEL", default=name),
        discovery_url=env.url(f"{infix}DISCOVERY_URL", default=None),
        client_id=env.text(f"{infix}CLIENT_ID"),
        client_secret=env.secret(f"{infix}CLIENT_SECRET", {}, min_length=1),
        institution_claim=_claim_name(env, f"{infix}INSTITUTION_CLAIM"),
    )


def _claim_name(env: EnvReader, name: str) -> str:
    """``institution`` unless set; ``none`` turns the claim off for a provider whose
    institution claim means something else."""
    value = env.text(name, default="institution")
    if value == "none":
        return ""
    if not CLAIM_NAME.fullmatch(value):
        raise SettingsError(
            f"{PREFIX}{name}: {value!r} is not a claim name (letters, digits, _ - . : /)"
        )
    return value


def identity_settings(env: EnvReader, *, is_demo: bool, public_url: str,
                      demo_secrets: Mapping[str, str]) -> dict[str, Any]:
    """Sign-in (the providers, the embedded IdP of the demo) and GA4GH Passports."""
    dev_idp_enabled = env.boolean("DEV_IDP", default=is_demo)
    if dev_idp_enabled and not is_demo:
        raise SettingsError(
            f"{PREFIX}DEV_IDP: the embedded development identity provider cannot be enabled "
            f"when {PREFIX}ENV=production"
        )
    default_discovery = (
        f"{public_url}/dev-idp/.well-known/openid-configuration" if dev_idp_enabled else None
    )
    return {
        "dev_idp_enabled": dev_idp_enabled,
        "dev_idp_private_key_pem": demo_secrets.get("DEV_IDP_PRIVATE_KEY", "") if is_demo else "",
        "dev_idp_client_secret": demo_secrets.get("DEV_IDP_CLIENT_SECRET", "") if is_demo else "",
        "oidc_providers": _oidc_providers(
            env, default_discovery,
            demo_secrets["DEV_IDP_CLIENT_SECRET"] if dev_idp_enabled else None),
        "visa_signing_key_pem": _visa_signing_key(env, demo_secrets),
        "visa_signing_keys_previous": _previous_visa_keys(env),
        "passport_trusted_brokers": _trusted_brokers(env),
    }
