"""Settings that protect the service from its users: how long browser sessions live, and
the rate limits on what attackers repeat (sign-ins, bad tokens, URLs, DRS, the demo IdP)."""

from __future__ import annotations

from typing import Any

from limits import parse_many

from config.env import PREFIX, EnvReader, SettingsError

# name (after CUSTODIAN_RATE_LIMIT_) -> default, in the limits notation "N per period".
RATE_LIMITS: dict[str, str] = {
    "SIGN_IN": "30/minute",  # /auth/login* and /auth/callback, per client address
    "BAD_TOKENS": "10/minute",  # refused API tokens, per client address
    "BAD_URLS": "20/minute",  # refused download signatures, per client address
    "URLS": "300/minute",  # signed URLs issued (API and DRS), per user
    "DRS": "600/minute",  # any GA4GH DRS call, per client address
    "DEV_IDP": "30/minute",  # the demo's identity provider, per client address
}


def protection_settings(env: EnvReader) -> dict[str, Any]:
    idle = env.integer("SESSION_IDLE_MINUTES", default=30, minimum=1, maximum=24 * 60)
    absolute = env.integer("SESSION_MAX_HOURS", default=8, minimum=1, maximum=24 * 30)
    if idle > absolute * 60:
        raise SettingsError(f"{PREFIX}SESSION_IDLE_MINUTES ({idle}) exceeds "
                            f"{PREFIX}SESSION_MAX_HOURS ({absolute}) in minutes")
    return {
        "session_idle_minutes": idle,
        "session_max_hours": absolute,
        "rate_limits_enabled": env.boolean("RATE_LIMITS", default=True),
        "rate_limit_storage": _storage_uri(env.text("RATE_LIMIT_STORAGE", default="memory://")),
        "rate_limits": {name.lower(): _limit(env, name, default)
                        for name, default in RATE_LIMITS.items()},
    }


def _limit(env: EnvReader, name: str, default: str) -> str:
    value = env.text(f"RATE_LIMIT_{name}", default=default)
    try:
        parse_many(value)
    except ValueError:
        raise SettingsError(f"{PREFIX}RATE_LIMIT_{name} must be a rate such as 10/minute or "
                            f"100/hour, got {value!r}") from None
    return value


def _storage_uri(value: str) -> str:
    """memory:// for one process; redis:// (or rediss://) for several instances sharing the
    counts, as every instance must when the limits are to mean anything."""
    if not value.startswith(("memory://", "redis://", "rediss://", "redis+unix://", "redis+sentinel://")):
        raise SettingsError(f"{PREFIX}RATE_LIMIT_STORAGE must be memory:// or a redis:// URL")
    return value
