"""Typed settings: defaults, then the environment (``CUSTODIAN_*``), then explicit overrides.

Everything the service reads from outside is parsed and validated here, once, at start-up,
so a bad value stops the process with a message naming the variable instead of failing on
the first request that happens to need it.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from config.audit import audit_settings
from config.env import PREFIX, EnvReader, SettingsError
from config.identity import OidcProvider, TrustedBroker, identity_settings
from config.protection import protection_settings
from config.secrets import load_or_create_demo_secrets

Environment = Literal["demo", "production"]
StorageBackend = Literal["local", "s3"]
AddressingStyle = Literal["auto", "path", "virtual"]
LogFormat = Literal["json", "text"]
SequencerMode = Literal["thread", "in_transaction"]
# S3's bucket naming rules (3-63 characters, DNS-safe), which S3-compatible stores share.
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
REGION_NAME = re.compile(r"[a-z0-9-]{1,32}")
EMAIL_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+")


@dataclass(frozen=True)
class Settings:
    environment: Environment
    database_url: str = field(repr=False)  # may hold a password
    secret_key: str = field(repr=False)
    public_url: str
    instance_dir: Path
    storage_root: Path
    url_signing_key: bytes = field(repr=False)
    signed_url_default_seconds: int
    signed_url_max_seconds: int
    api_token_days: int
    api_token_max_days: int
    db_pool_size: int
    db_max_overflow: int
    db_pool_timeout_seconds: int
    trusted_proxies: int
    # Keys being rotated out: still accepted for verification, never used to sign.
    secret_key_previous: tuple[str, ...] = field(repr=False)
    url_signing_keys_previous: tuple[bytes, ...] = field(repr=False)
    dev_idp_enabled: bool
    dev_idp_private_key_pem: str = field(repr=False)
    dev_idp_client_secret: str = field(repr=False)
    demo_secrets_file: Path | None
    storage_backend: StorageBackend = "local"
    s3_bucket: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_addressing_style: AddressingStyle = "auto"
    s3_key_prefix: str = ""
    oidc_providers: tuple[OidcProvider, ...] = ()
    log_format: LogFormat = "json"
    metrics_enabled: bool = False
    metrics_public: bool = False
    metrics_token: str | None = field(default=None, repr=False)
    # Alerts for auditors: more URL issues, or refusals, than this per user (or IP) per hour.
    alert_downloads_per_hour: int = 50
    alert_refusals_per_hour: int = 10
    # The Ed25519 seed that signs audit checkpoints; key rotation is in audit/log/models.py.
    audit_signing_key: bytes = field(default=b"", repr=False)
    audit_checkpoint_every: int = 1000
    # The checkpoints' origin line and key name: this log's identity (c2sp.org/tlog-checkpoint).
    audit_origin: str = ""
    # Who integrates queued audit events, in batches of how many, looking how often at an
    # empty queue; and the age of an unchained event past which /readyz and
    # `flask audit verify` fail (audit/log/sequencing.py).
    audit_sequencer: SequencerMode = "thread"
    audit_sequencer_batch: int = 1000
    audit_sequencer_interval_ms: int = 100
    audit_max_lag_seconds: int = 60
    # GA4GH visas we sign (PEM, RSA or EC P-256; empty: we issue none) and keys rotated out.
    visa_signing_key_pem: str = field(default="", repr=False)
    visa_signing_keys_previous: tuple[str, ...] = field(default=(), repr=False)
    passport_trusted_brokers: tuple[TrustedBroker, ...] = ()
    # Outgoing email (the notification outbox); no host = emails queue but are not sent.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str = ""
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = True
    # The CAs that may vouch for the SMTP server's certificate; None: the system's.
    smtp_ca_file: Path | None = None
    # GA4GH DRS bulk requests: longer id lists get 413 (advertised in service-info).
    drs_max_bulk_request_length: int = 100
    # Browser sessions (config/protection.py): idle timeout and absolute lifetime.
    session_idle_minutes: int = 30
    session_max_hours: int = 8
    # Rate limits: storage (memory:// or redis://) and each limit by name.
    rate_limits_enabled: bool = True
    rate_limit_storage: str = field(default="memory://", repr=False)  # may hold a password
    rate_limits: Mapping[str, str] = field(default_factory=dict)
    # Encrypts the columns a database dump must not give away (core/field_encryption.py).
    data_key: str = field(default="", repr=False)
    data_keys_previous: tuple[str, ...] = field(default=(), repr=False)

    @property
    def is_demo(self) -> bool:
        return self.environment == "demo"

    @property
    def dev_idp_issuer(self) -> str:
        return f"{self.public_url}/dev-idp"


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build and validate settings; raises SettingsError naming the first bad variable."""
    env = EnvReader(os.environ if environ is None else environ, overrides or {})
    environment = env.choice("ENV", ("demo", "production"), default="production")
    is_demo = environment == "demo"
    port = env.integer("PORT", default=5000, minimum=1, maximum=65535, bare_name="PORT")
    public_url = env.url("PUBLIC_URL", default=f"http://127.0.0.1:{port}").rstrip("/")
    instance_dir = Path(env.text("INSTANCE_DIR", default="instance")).resolve()
    demo_secrets: dict[str, str] = {}
    demo_secrets_file: Path | None = None
    if is_demo:
        demo_secrets_file = instance_dir / "demo-secrets.json"
        demo_secrets = load_or_create_demo_secrets(demo_secrets_file)
    database = _database_settings(env, is_demo, instance_dir)
    return Settings(
        environment=environment,  # type: ignore[arg-type]
        public_url=public_url,
        instance_dir=instance_dir,
        demo_secrets_file=demo_secrets_file,
        **_web_settings(env, demo_secrets),
        **database,
        **_storage_settings(env, is_demo, instance_dir, demo_secrets),
        **_token_settings(env),
        **identity_settings(env, is_demo=is_demo, public_url=public_url, demo_secrets=demo_secrets),
        **audit_settings(
            env,
            public_url=public_url,
            is_demo=is_demo,
            on_sqlite=database["database_url"].startswith("sqlite"),
            demo_secrets=demo_secrets,
        ),
        **_operations_settings(env, is_demo),
        **_email_settings(env, public_url),
        **protection_settings(env),
    )


def _web_settings(env: EnvReader, demo_secrets: Mapping[str, str]) -> dict[str, Any]:
    return {
        "secret_key": env.secret("SECRET_KEY", demo_secrets, min_length=32),
        "secret_key_previous": env.previous_secrets("SECRET_KEY", min_length=32),
        "data_key": env.secret("DATA_KEY", demo_secrets, min_length=32),
        "data_keys_previous": env.previous_secrets("DATA_KEY", min_length=32),
        "trusted_proxies": env.integer("TRUSTED_PROXIES", default=0, minimum=0, maximum=5),
    }


def _database_settings(env: EnvReader, is_demo: bool, instance_dir: Path) -> dict[str, Any]:
    # The URL may carry the password, so it may come from a file (CUSTODIAN_DATABASE_URL_FILE)
    # like any secret; or it names none and libpq finds it (PGPASSFILE, ~/.pgpass).
    url = env.optional_secret("DATABASE_URL")
    if url is None and is_demo:
        url = f"sqlite:///{instance_dir / 'custodian.db'}"
    if url is None:
        raise SettingsError(
            f"{PREFIX}DATABASE_URL is required but not set (or set {PREFIX}DATABASE_URL_FILE)"
        )
    return {
        "database_url": url.strip(),
        "db_pool_size": env.integer("DB_POOL_SIZE", default=5, minimum=1, maximum=200),
        "db_max_overflow": env.integer("DB_MAX_OVERFLOW", default=10, minimum=0, maximum=200),
        "db_pool_timeout_seconds": env.integer(
            "DB_POOL_TIMEOUT", default=10, minimum=1, maximum=300
        ),
    }


def _storage_settings(
    env: EnvReader, is_demo: bool, instance_dir: Path, demo_secrets: Mapping[str, str]
) -> dict[str, Any]:
    """The backend, where it keeps files, and the signed URLs' lifetimes."""
    backend = env.choice("STORAGE_BACKEND", ("local", "s3"), default="local")
    local = backend == "local"
    # The local backend re-checks the grant as it serves; an S3 store cannot ask us, so a URL
    # outlives a revocation by what is left of its life (README, "Revocation and S3"): short.
    default_seconds = env.integer(
        "SIGNED_URL_SECONDS", default=900 if local else 300, minimum=10, maximum=86400
    )
    max_seconds = env.integer(
        "SIGNED_URL_MAX_SECONDS", default=3600 if local else 600, minimum=10, maximum=86400
    )
    if default_seconds > max_seconds:
        raise SettingsError(
            f"{PREFIX}SIGNED_URL_SECONDS ({default_seconds}) exceeds "
            f"{PREFIX}SIGNED_URL_MAX_SECONDS ({max_seconds})"
        )
    return {
        "storage_backend": backend,
        "storage_root": Path(
            env.text(
                "STORAGE_ROOT",
                default=str(instance_dir / "storage") if is_demo or not local else None,
            )
        ).resolve(),
        # Only the local backend signs URLs itself; S3 signs with the AWS credentials.
        "url_signing_key": (
            env.secret("URL_SIGNING_KEY", demo_secrets, min_length=32).encode() if local else b""
        ),
        "url_signing_keys_previous": tuple(
            key.encode() for key in env.previous_secrets("URL_SIGNING_KEY", min_length=32)
        ),
        "signed_url_default_seconds": default_seconds,
        "signed_url_max_seconds": max_seconds,
        "s3_bucket": ""
        if local
        else env.matching("S3_BUCKET", BUCKET_NAME, "a valid S3 bucket name"),
        "s3_endpoint_url": env.optional_url("S3_ENDPOINT_URL"),
        "s3_region": env.matching(
            "S3_REGION", REGION_NAME, "a region name such as us-east-1", default="us-east-1"
        ),
        "s3_addressing_style": env.choice(
            "S3_ADDRESSING_STYLE", ("auto", "path", "virtual"), default="auto"
        ),
        "s3_key_prefix": _key_prefix(env.text("S3_KEY_PREFIX", default="")),
        "drs_max_bulk_request_length": env.integer(
            "DRS_MAX_BULK_REQUEST_LENGTH", default=100, minimum=1, maximum=10_000
        ),
    }


def _token_settings(env: EnvReader) -> dict[str, Any]:
    token_days = env.integer("API_TOKEN_DAYS", default=30, minimum=1, maximum=365)
    token_max_days = env.integer("API_TOKEN_MAX_DAYS", default=90, minimum=1, maximum=365)
    if token_days > token_max_days:
        raise SettingsError(
            f"{PREFIX}API_TOKEN_DAYS ({token_days}) exceeds {PREFIX}API_TOKEN_MAX_DAYS "
            f"({token_max_days})"
        )
    return {"api_token_days": token_days, "api_token_max_days": token_max_days}


def _operations_settings(env: EnvReader, is_demo: bool) -> dict[str, Any]:
    """Logs and metrics."""
    metrics_enabled = env.choice("METRICS", ("off", "on"), default="off") == "on"
    metrics_public = env.boolean("METRICS_PUBLIC", default=False)
    return {
        "log_format": env.choice(
            "LOG_FORMAT", ("json", "text"), default="text" if is_demo else "json"
        ),
        "metrics_enabled": metrics_enabled,
        "metrics_public": metrics_public,
        "metrics_token": _metrics_token(env, metrics_enabled, metrics_public),
    }


def _email_settings(env: EnvReader, public_url: str) -> dict[str, Any]:
    """The notification outbox's SMTP server; no host: emails queue but are not sent."""
    return {
        "smtp_host": env.text("SMTP_HOST", default="") or None,
        "smtp_port": env.integer("SMTP_PORT", default=587, minimum=1, maximum=65535),
        "smtp_from": env.matching(
            "SMTP_FROM",
            EMAIL_ADDRESS,
            "an email address",
            default=f"custodian@{urlsplit(public_url).hostname or 'localhost'}",
        ),
        "smtp_username": env.text("SMTP_USERNAME", default="") or None,
        "smtp_password": env.optional_secret("SMTP_PASSWORD"),
        "smtp_starttls": env.boolean("SMTP_STARTTLS", default=True),
        "smtp_ca_file": _ca_file(env, "SMTP_CA_FILE"),
    }


def _ca_file(env: EnvReader, name: str) -> Path | None:
    """A PEM bundle of CA certificates, checked now: a typo must not wait for the first email.

    For a relay whose certificate comes from an institution's own CA; verification is never
    switched off, only pointed at other roots.
    """
    given = env.text(name, default="")
    if not given:
        return None
    try:
        ssl.create_default_context(cafile=given)
    except (OSError, ssl.SSLError) as exc:
        raise SettingsError(
            f"{PREFIX}{name} must name a readable PEM file of CA certificates "
            f"({type(exc).__name__})."
        ) from None
    return Path(given)


def _metrics_token(env: EnvReader, enabled: bool, public: bool) -> str | None:
    """/metrics wants a scraper's token unless declared public (for a private network)."""
    if not enabled:
        return None
    if not public:
        return env.secret("METRICS_TOKEN", {}, min_length=32)
    if env.has("METRICS_TOKEN") or env.has("METRICS_TOKEN_FILE"):
        raise SettingsError(
            f"{PREFIX}METRICS_TOKEN is set but {PREFIX}METRICS_PUBLIC=true makes /metrics "
            "public: set only one of them"
        )
    return None


def _key_prefix(value: str) -> str:
    """Operators write ``a/b``, ``/a/b/`` or ``a//b`` for the same folder; keys need ``a/b/``."""
    parts = [part for part in value.split("/") if part]
    return "/".join(parts) + "/" if parts else ""
