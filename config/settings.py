"""Typed settings: defaults, then the environment (``CUSTODIAN_*``), then explicit overrides.

Everything the service reads from outside is parsed and validated here, once, at start-up,
so a bad value stops the process with a message naming the variable instead of failing on
the first request that happens to need it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from config.secrets import load_or_create_demo_secrets

Environment = Literal["demo", "production"]
PREFIX = "CUSTODIAN_"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


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
    oidc_discovery_url: str
    oidc_client_id: str
    oidc_client_secret: str = field(repr=False)
    dev_idp_enabled: bool
    dev_idp_private_key_pem: str = field(repr=False)
    dev_idp_client_secret: str = field(repr=False)
    demo_secrets_file: Path | None

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
    default_seconds = env.integer("SIGNED_URL_SECONDS", default=900, minimum=10, maximum=86400)
    max_seconds = env.integer("SIGNED_URL_MAX_SECONDS", default=3600, minimum=10, maximum=86400)
    if default_seconds > max_seconds:
        raise SettingsError(
            f"{PREFIX}SIGNED_URL_SECONDS ({default_seconds}) exceeds "
            f"{PREFIX}SIGNED_URL_MAX_SECONDS ({max_seconds})"
        )
    return Settings(
        environment=environment,  # type: ignore[arg-type]
        database_url=env.text(
            "DATABASE_URL",
            default=f"sqlite:///{instance_dir / 'custodian.db'}" if is_demo else None,
        ),
        secret_key=env.secret("SECRET_KEY", demo_secrets, min_length=32),
        public_url=public_url,
        instance_dir=instance_dir,
        storage_root=Path(
            env.text("STORAGE_ROOT", default=str(instance_dir / "storage") if is_demo else None)
        ).resolve(),
        url_signing_key=env.secret("URL_SIGNING_KEY", demo_secrets, min_length=32).encode(),
        signed_url_default_seconds=default_seconds,
        signed_url_max_seconds=max_seconds,
        api_token_days=env.integer("API_TOKEN_DAYS", default=30, minimum=1, maximum=365),
        oidc_discovery_url=env.url("OIDC_DISCOVERY_URL", default=default_discovery),
        oidc_client_id=env.text("OIDC_CLIENT_ID", default="custodian" if dev_idp_enabled else None),
        oidc_client_secret=(
            demo_secrets["DEV_IDP_CLIENT_SECRET"]
            if dev_idp_enabled and not env.has("OIDC_CLIENT_SECRET")
            else env.secret("OIDC_CLIENT_SECRET", {}, min_length=1)
        ),
        dev_idp_enabled=dev_idp_enabled,
        dev_idp_private_key_pem=demo_secrets.get("DEV_IDP_PRIVATE_KEY", "") if is_demo else "",
        dev_idp_client_secret=demo_secrets.get("DEV_IDP_CLIENT_SECRET", "") if is_demo else "",
        demo_secrets_file=demo_secrets_file,
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
        value = self._raw(name)
        file_name = self._raw(f"{name}_FILE")
        if value is None and file_name is not None:
            try:
                value = Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(
                    f"{PREFIX}{name}_FILE: cannot read {file_name}: {exc.strerror}"
                ) from None
        if value is None:
            value = demo_secrets.get(name)
        if not value:
            raise SettingsError(
                f"{PREFIX}{name} is required but not set (or set {PREFIX}{name}_FILE)"
            )
        if len(value) < min_length:
            raise SettingsError(f"{PREFIX}{name} must be at least {min_length} characters long")
        return value

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

    def url(self, name: str, default: str | None) -> str:
        value = self.text(name, default=default)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"{PREFIX}{name} must be an http(s) URL, got {value!r}")
        return value
