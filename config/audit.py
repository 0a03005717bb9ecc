"""Audit settings: the Ed25519 key that signs checkpoints, and the log's name."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from config.env import PREFIX, EnvReader, SettingsError

# signed-note key names: printable, no spaces, no "+".
ORIGIN = re.compile(r"[!-*,-~]{1,255}")


def _audit_signing_key(env: EnvReader, demo_secrets: Mapping[str, str]) -> bytes:
    """An Ed25519 private key as PEM (``openssl genpkey -algorithm ed25519``) or its raw
    32-byte seed in base64; returned as the seed."""
    value = env.secret("AUDIT_SIGNING_KEY", demo_secrets, min_length=1)
    problem = (
        f"{PREFIX}AUDIT_SIGNING_KEY must be an Ed25519 private key in PEM or a base64 32-byte seed"
    )
    if value.startswith("-----BEGIN"):
        try:
            key = load_pem_private_key(value.encode(), password=None)
        except (ValueError, TypeError):
            raise SettingsError(problem) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SettingsError(problem)
        return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    try:
        seed = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise SettingsError(problem) from None
    if len(seed) != 32:
        raise SettingsError(problem)
    return seed


def _default_origin(public_url: str) -> str:
    """``<host>[/path]/audit``: the public URL without its scheme, as tlog origins are."""
    parts = urlsplit(public_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/audit"


def _sequencer_mode(env: EnvReader, *, is_demo: bool, on_sqlite: bool) -> str:
    """``in_transaction`` on SQLite and in the demo, ``thread`` otherwise; never
    ``in_transaction`` on PostgreSQL in production, where every audited commit would wait
    for the chain lock (audit/log/sequencing.py)."""
    mode = env.choice(
        "AUDIT_SEQUENCER",
        ("thread", "in_transaction"),
        default="in_transaction" if is_demo or on_sqlite else "thread",
    )
    if mode == "in_transaction" and not (is_demo or on_sqlite):
        raise SettingsError(
            f"{PREFIX}AUDIT_SEQUENCER=in_transaction is for SQLite and the demo: on "
            "PostgreSQL it would make every audited commit wait for one lock; use thread"
        )
    return mode


def audit_settings(
    env: EnvReader,
    *,
    public_url: str,
    is_demo: bool,
    on_sqlite: bool,
    demo_secrets: Mapping[str, str],
) -> dict[str, Any]:
    """The checkpoint key and the log's name, how often checkpoints are signed, how the
    sequencer runs (audit/log/sequencing.py), and the thresholds of the auditors' alerts."""
    return {
        "audit_sequencer": _sequencer_mode(env, is_demo=is_demo, on_sqlite=on_sqlite),
        "audit_sequencer_batch": env.integer(
            "AUDIT_SEQUENCER_BATCH", default=1000, minimum=1, maximum=100_000
        ),
        "audit_sequencer_interval_ms": env.integer(
            "AUDIT_SEQUENCER_INTERVAL_MS", default=100, minimum=1, maximum=60_000
        ),
        "audit_max_lag_seconds": env.integer(
            "AUDIT_MAX_LAG_SECONDS", default=60, minimum=1, maximum=86_400
        ),
        "audit_signing_key": _audit_signing_key(env, demo_secrets),
        "audit_checkpoint_every": env.integer(
            "AUDIT_CHECKPOINT_EVERY", default=1000, minimum=1, maximum=1_000_000
        ),
        "audit_origin": env.matching(
            "AUDIT_ORIGIN",
            ORIGIN,
            "a key name without spaces or '+'",
            default=_default_origin(public_url),
        ),
        "alert_downloads_per_hour": env.integer(
            "ALERT_DOWNLOADS_PER_HOUR", default=50, minimum=1, maximum=1_000_000
        ),
        "alert_refusals_per_hour": env.integer(
            "ALERT_REFUSALS_PER_HOUR", default=10, minimum=1, maximum=1_000_000
        ),
    }
