"""Typed settings: defaults, then the environment (``CUSTODIAN_*``), then explicit overrides.

Everything the service reads from outside is parsed and validated here, once, at start-up,
so a bad value stops the process with a message naming the variable instead of failing on
the first request that happens to need it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from config.secrets import load_or_create_demo_secrets

Environment = Literal["demo", "production"]
StorageBackend = Literal["local", "s3"]
AddressingStyle = Literal["auto", "path", "virtual"]
LogFormat = Literal["json", "text"]
PREFIX = "CUSTODIAN_"
SINGLE_PROVIDER_NAME = "default"
DEV_IDP_CLIENT_ID = "custodian"
PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
# S3's bucket naming rules (3-63 characters, DNS-safe), which S3-compatible stores share.
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
REGION_NAME = re.compile(r"[a-z0-9-]{1,32}")
EMAIL_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+")
# signed-note key names: printable, no spaces, no "+".
ORIGIN = re.compile(r"[!-*,-~]{1,255}")
PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


@dataclass(frozen=True)
class OidcProvider:
    """An identity provider users may sign in with; ``name`` is its URL segment and env infix."""

    name: str
    label: str
    discovery_url: str
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class TrustedBroker:
    """A Passport broker whose visas we accept, and the only key-set URLs (jku) we fetch for it."""

    issuer: str
    jkus: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    environment: Environment
    database_url: str
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
    # GA4GH DRS bulk requests: longer id lists get 413 (advertised in service-info).
    drs_max_bulk_request_length: int = 100

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
    env = _Env(os.environ if environ is None else environ, overrides or {})
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

    dev_idp_enabled = env.boolean("DEV_IDP", default=is_demo)
    if dev_idp_enabled and not is_demo:
        raise SettingsError(
            f"{PREFIX}DEV_IDP: the embedded development identity provider cannot be enabled "
            f"when {PREFIX}ENV=production"
        )
    default_discovery = (
        f"{public_url}/dev-idp/.well-known/openid-configuration" if dev_idp_enabled else None
    )
    storage_backend = env.choice("STORAGE_BACKEND", ("local", "s3"), default="local")
    uses_local_disk = storage_backend == "local"
    default_seconds = env.integer("SIGNED_URL_SECONDS", default=900, minimum=10, maximum=86400)
    max_seconds = env.integer("SIGNED_URL_MAX_SECONDS", default=3600, minimum=10, maximum=86400)
    if default_seconds > max_seconds:
        raise SettingsError(
            f"{PREFIX}SIGNED_URL_SECONDS ({default_seconds}) exceeds "
            f"{PREFIX}SIGNED_URL_MAX_SECONDS ({max_seconds})"
        )
    token_days = env.integer("API_TOKEN_DAYS", default=30, minimum=1, maximum=365)
    token_max_days = env.integer("API_TOKEN_MAX_DAYS", default=90, minimum=1, maximum=365)
    if token_days > token_max_days:
        raise SettingsError(
            f"{PREFIX}API_TOKEN_DAYS ({token_days}) exceeds {PREFIX}API_TOKEN_MAX_DAYS "
            f"({token_max_days})"
        )
    metrics_enabled = env.choice("METRICS", ("off", "on"), default="off") == "on"
    metrics_public = env.boolean("METRICS_PUBLIC", default=False)
    return Settings(
        environment=environment,  # type: ignore[arg-type]
        database_url=env.text(
            "DATABASE_URL",
            default=f"sqlite:///{instance_dir / 'custodian.db'}" if is_demo else None,
        ),
        secret_key=env.secret("SECRET_KEY", demo_secrets, min_length=32),
        public_url=public_url,
        instance_dir=instance_dir,
        storage_root=Path(env.text(
            "STORAGE_ROOT",
            default=str(instance_dir / "storage") if is_demo or not uses_local_disk else None,
        )).resolve(),
        # Only the local backend signs URLs itself; S3 signs with the AWS credentials.
        url_signing_key=(
            env.secret("URL_SIGNING_KEY", demo_secrets, min_length=32).encode()
            if uses_local_disk else b""
        ),
        signed_url_default_seconds=default_seconds,
        signed_url_max_seconds=max_seconds,
        api_token_days=token_days,
        api_token_max_days=token_max_days,
        db_pool_size=env.integer("DB_POOL_SIZE", default=5, minimum=1, maximum=200),
        db_max_overflow=env.integer("DB_MAX_OVERFLOW", default=10, minimum=0, maximum=200),
        db_pool_timeout_seconds=env.integer("DB_POOL_TIMEOUT", default=10, minimum=1,
                                            maximum=300),
        trusted_proxies=env.integer("TRUSTED_PROXIES", default=0, minimum=0, maximum=5),
        secret_key_previous=env.previous_secrets("SECRET_KEY", min_length=32),
        url_signing_keys_previous=tuple(
            key.encode() for key in env.previous_secrets("URL_SIGNING_KEY", min_length=32)
        ),
        dev_idp_enabled=dev_idp_enabled,
        dev_idp_private_key_pem=demo_secrets.get("DEV_IDP_PRIVATE_KEY", "") if is_demo else "",
        dev_idp_client_secret=demo_secrets.get("DEV_IDP_CLIENT_SECRET", "") if is_demo else "",
        demo_secrets_file=demo_secrets_file,
        storage_backend=storage_backend,  # type: ignore[arg-type]
        s3_bucket=(
            "" if uses_local_disk
            else env.matching("S3_BUCKET", BUCKET_NAME, "a valid S3 bucket name")
        ),
        s3_endpoint_url=env.optional_url("S3_ENDPOINT_URL"),
        s3_region=env.matching("S3_REGION", REGION_NAME, "a region name such as us-east-1",
                               default="us-east-1"),
        s3_addressing_style=env.choice(  # type: ignore[arg-type]
            "S3_ADDRESSING_STYLE", ("auto", "path", "virtual"), default="auto"
        ),
        s3_key_prefix=_key_prefix(env.text("S3_KEY_PREFIX", default="")),
        oidc_providers=_oidc_providers(
            env, default_discovery,
            demo_secrets["DEV_IDP_CLIENT_SECRET"] if dev_idp_enabled else None,
        ),
        log_format=env.choice(  # type: ignore[arg-type]
            "LOG_FORMAT", ("json", "text"), default="text" if is_demo else "json"
        ),
        metrics_enabled=metrics_enabled,
        metrics_public=metrics_public,
        metrics_token=_metrics_token(env, metrics_enabled, metrics_public),
        alert_downloads_per_hour=env.integer("ALERT_DOWNLOADS_PER_HOUR", default=50, minimum=1,
                                             maximum=1_000_000),
        alert_refusals_per_hour=env.integer("ALERT_REFUSALS_PER_HOUR", default=10, minimum=1,
                                            maximum=1_000_000),
        audit_signing_key=_audit_signing_key(env, demo_secrets),
        audit_checkpoint_every=env.integer("AUDIT_CHECKPOINT_EVERY", default=1000, minimum=1,
                                           maximum=1_000_000),
        audit_origin=env.matching("AUDIT_ORIGIN", ORIGIN, "a key name without spaces or '+'",
                                  default=_default_origin(public_url)),
        visa_signing_key_pem=_visa_signing_key(env, demo_secrets),
        visa_signing_keys_previous=_previous_visa_keys(env),
        passport_trusted_brokers=_trusted_brokers(env),
        smtp_host=env.text("SMTP_HOST", default="") or None,
        smtp_port=env.integer("SMTP_PORT", default=587, minimum=1, maximum=65535),
        smtp_from=env.matching("SMTP_FROM", EMAIL_ADDRESS, "an email address",
                               default=f"custodian@{urlsplit(public_url).hostname or 'localhost'}"),
        smtp_username=env.text("SMTP_USERNAME", default="") or None,
        smtp_password=env.optional_secret("SMTP_PASSWORD"),
        smtp_starttls=env.boolean("SMTP_STARTTLS", default=True),
        drs_max_bulk_request_length=env.integer("DRS_MAX_BULK_REQUEST_LENGTH", default=100,
                                                minimum=1, maximum=10_000),
    )


def _visa_signing_key(env: _Env, demo_secrets: Mapping[str, str]) -> str:
    """Optional outside demo mode: without it the service issues no visas (and says so)."""
    if not (env.has("VISA_SIGNING_KEY") or env.has("VISA_SIGNING_KEY_FILE")
            or "VISA_SIGNING_KEY" in demo_secrets):
        return ""
    pem = env.secret("VISA_SIGNING_KEY", demo_secrets, min_length=1)
    _check_visa_key(pem, "VISA_SIGNING_KEY")
    return pem


def _previous_visa_keys(env: _Env) -> tuple[str, ...]:
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


def _trusted_brokers(env: _Env) -> tuple[TrustedBroker, ...]:
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


def _audit_signing_key(env: _Env, demo_secrets: Mapping[str, str]) -> bytes:
    """An Ed25519 private key as PEM (``openssl genpkey -algorithm ed25519``) or its raw
    32-byte seed in base64; returned as the seed."""
    value = env.secret("AUDIT_SIGNING_KEY", demo_secrets, min_length=1)
    problem = f"{PREFIX}AUDIT_SIGNING_KEY must be an Ed25519 private key in PEM or a base64 " \
        "32-byte seed"
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


def _metrics_token(env: _Env, enabled: bool, public: bool) -> str | None:
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


def _oidc_providers(
    env: _Env, dev_idp_discovery: str | None, dev_idp_secret: str | None
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
        ),)
    for single in ("OIDC_DISCOVERY_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET",
                   "OIDC_CLIENT_SECRET_FILE"):
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


def _named_provider(env: _Env, name: str) -> OidcProvider:
    infix = f"OIDC_{name.upper()}_"
    return OidcProvider(
        name=name,
        label=env.text(f"{infix}LABEL", default=name),
        discovery_url=env.url(f"{infix}DISCOVERY_URL", default=None),
        client_id=env.text(f"{infix}CLIENT_ID"),
        client_secret=env.secret(f"{infix}CLIENT_SECRET", {}, min_length=1),
    )


class _Env:
    """Reads one variable at a time and turns every problem into a SettingsError."""

    def __init__(self, environ: Mapping[str, str], overrides: Mapping[str, Any]) -> None:
        self._environ = environ
        self._overrides = overrides

    def has(self, name: str) -> bool:
        return name in self._overrides or f"{PREFIX}{name}" in self._environ

    def _raw(self, name: str, bare_name: str | None = None) -> str | None:
        if name in self._overrides:
            return str(self._overrides[name])
        value = self._environ.get(f"{PREFIX}{name}")
        if value is None and bare_name is not None:
            value = self._environ.get(bare_name)
        return value

    def text(self, name: str, default: str | None = None) -> str:
        value = self._raw(name)
        if value is None or value.strip() == "":
            if default is None:
                raise SettingsError(f"{PREFIX}{name} is required but not set")
            return default
        return value.strip()

    def secret(self, name: str, demo_secrets: Mapping[str, str], min_length: int) -> str:
        """A secret comes from the variable, or a file named by NAME_FILE, or the demo store."""
        value = self._given_secret(name)
        if value is None:
            value = demo_secrets.get(name)
        if not value:
            raise SettingsError(
                f"{PREFIX}{name} is required but not set (or set {PREFIX}{name}_FILE)"
            )
        if len(value) < min_length:
            raise SettingsError(f"{PREFIX}{name} must be at least {min_length} characters long")
        return value

    def optional_secret(self, name: str) -> str | None:
        """Like secret(), for one that may be absent (NAME, or a file named by NAME_FILE)."""
        return self._given_secret(name) or None

    def _given_secret(self, name: str) -> str | None:
        """NAME as set (even empty), else the content of the file NAME_FILE names, else None."""
        value = self._raw(name)
        file_name = self._raw(f"{name}_FILE")
        if value is None and file_name is not None:
            try:
                value = Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(
                    f"{PREFIX}{name}_FILE: cannot read {file_name}: {exc.strerror}"
                ) from None
        return value

    def previous_secrets(self, name: str, min_length: int) -> tuple[str, ...]:
        """NAME_PREVIOUS: comma-separated keys being rotated out (or NAME_PREVIOUS_FILE)."""
        value = self._raw(f"{name}_PREVIOUS")
        file_name = self._raw(f"{name}_PREVIOUS_FILE")
        if value is None and file_name is not None:
            try:
                value = Path(file_name).read_text(encoding="utf-8")
            except OSError as exc:
                raise SettingsError(
                    f"{PREFIX}{name}_PREVIOUS_FILE: cannot read {file_name}: {exc.strerror}"
                ) from None
        keys = tuple(part.strip() for part in (value or "").replace("\n", ",").split(",")
                     if part.strip())
        if any(len(key) < min_length for key in keys):
            raise SettingsError(
                f"{PREFIX}{name}_PREVIOUS: every key must be at least {min_length} characters"
            )
        return keys

    def integer(
        self,
        name: str,
        default: int,
        minimum: int,
        maximum: int,
        bare_name: str | None = None,
    ) -> int:
        value = self._raw(name, bare_name)
        if value is None or value.strip() == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name} must be a whole number, got {value!r}") from None
        if not minimum <= number <= maximum:
            raise SettingsError(f"{PREFIX}{name} must be between {minimum} and {maximum}")
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None or value.strip() == "":
            return default
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{PREFIX}{name} must be true or false, got {value!r}")

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(name, default=default).lower()
        if value not in choices:
            allowed = ", ".join(choices)
            raise SettingsError(f"{PREFIX}{name} must be one of {allowed}, got {value!r}")
        return value

    def matching(
        self, name: str, pattern: re.Pattern[str], meaning: str, default: str | None = None
    ) -> str:
        value = self.text(name, default=default)
        if not pattern.fullmatch(value):
            raise SettingsError(f"{PREFIX}{name} must be {meaning}, got {value!r}")
        return value

    def optional_url(self, name: str) -> str | None:
        return self.url(name, default=None) if (self._raw(name) or "").strip() else None

    def url(self, name: str, default: str | None) -> str:
        value = self.text(name, default=default)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"{PREFIX}{name} must be an http(s) URL, got {value!r}")
        return value
