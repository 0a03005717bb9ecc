"""Reading the environment one variable at a time: CUSTODIAN_ names, NAME_FILE secrets,
explicit overrides, and every problem a SettingsError naming the variable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PREFIX = "CUSTODIAN_"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


class EnvReader:
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
