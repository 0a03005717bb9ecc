"""Demo mode makes its own secrets once and keeps them beside the database.

Production never reaches this module: there, a missing secret stops start-up.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def _new_demo_secrets() -> dict[str, str]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "URL_SIGNING_KEY": secrets.token_urlsafe(48),
        "DATA_KEY": secrets.token_urlsafe(48),
        "DEV_IDP_CLIENT_SECRET": secrets.token_urlsafe(32),
        "DEV_IDP_PRIVATE_KEY": pem,
        "AUDIT_SIGNING_KEY": new_audit_signing_key(),
        "VISA_SIGNING_KEY": new_visa_signing_key(),
    }


def new_visa_signing_key() -> str:
    """A fresh EC P-256 key (ES256) for the GA4GH visas the demo signs, as PKCS#8 PEM."""
    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def new_audit_signing_key() -> str:
    """A fresh Ed25519 key for audit checkpoints, as PKCS#8 PEM (what openssl also writes)."""
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def load_or_create_demo_secrets(path: Path) -> dict[str, str]:
    """Read the demo secrets file, creating it (mode 0600) with fresh secrets if absent."""
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        if "AUDIT_SIGNING_KEY" not in stored:
            stored = _add_audit_signing_key(path, stored)
        if "VISA_SIGNING_KEY" not in stored:
            stored = _add_secret(
                path, stored, "VISA_SIGNING_KEY", new_visa_signing_key(), "a visa signing key"
            )
        if "DATA_KEY" not in stored:
            stored = _add_secret(
                path,
                stored,
                "DATA_KEY",
                secrets.token_urlsafe(48),
                "a key for the data encrypted at rest",
            )
        return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    values = _new_demo_secrets()
    # O_EXCL: two processes starting at once must not both write (and disagree on) the keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return existing
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle, indent=2)
    print(f"demo mode: generated secrets and stored them in {path}", file=sys.stderr)
    return values


def _add_secret(
    path: Path, stored: dict[str, str], name: str, value: str, what: str
) -> dict[str, str]:
    """A demo made before a secret existed gets it on its next start; the others stay."""
    values = stored | {name: value}
    staging = path.with_name(path.name + ".new")
    with os.fdopen(
        os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8"
    ) as handle:
        json.dump(values, handle, indent=2)
    os.replace(staging, path)
    print(f"demo mode: added {what} to {path}", file=sys.stderr)
    return values


def _add_audit_signing_key(path: Path, stored: dict[str, str]) -> dict[str, str]:
    """A demo made before audit checkpoints existed gets its signing key on the next start."""
    return _add_secret(
        path, stored, "AUDIT_SIGNING_KEY", new_audit_signing_key(), "an audit signing key"
    )
