"""Settings are validated at start-up; a bad one names its variable."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from app import create_app
from config import SettingsError, load_settings

PRODUCTION = {
    "CUSTODIAN_DATABASE_URL": "sqlite:///:memory:",
    "CUSTODIAN_SECRET_KEY": "s" * 40,
    "CUSTODIAN_URL_SIGNING_KEY": "u" * 40,
    "CUSTODIAN_STORAGE_ROOT": "/srv/custodian/storage",
    "CUSTODIAN_OIDC_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration",
    "CUSTODIAN_OIDC_CLIENT_ID": "custodian",
    "CUSTODIAN_OIDC_CLIENT_SECRET": "c" * 20,
}


def without(name: str) -> dict[str, str]:
    return {key: value for key, value in PRODUCTION.items() if key != name}


def test_production_is_the_default_and_loads_complete_settings() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.environment == "production"
    assert not settings.dev_idp_enabled


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_each_missing_required_setting_stops_start_up_naming_it(missing: str) -> None:
    with pytest.raises(SettingsError, match=missing):
        load_settings(without(missing))


@pytest.mark.parametrize("name, value", [
    ("CUSTODIAN_PORT", "eighty"),
    ("CUSTODIAN_PORT", "70000"),
    ("CUSTODIAN_ENV", "staging"),
    ("CUSTODIAN_SIGNED_URL_SECONDS", "-1"),
    ("CUSTODIAN_SIGNED_URL_MAX_SECONDS", "soon"),
    ("CUSTODIAN_PUBLIC_URL", "ftp://host"),
    ("CUSTODIAN_OIDC_DISCOVERY_URL", "not a url"),
    ("CUSTODIAN_SECRET_KEY", "short"),
    ("CUSTODIAN_API_TOKEN_DAYS", "0"),
])
def test_malformed_setting_names_itself(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**PRODUCTION, name: value})


def test_default_lifetime_above_hard_maximum_is_refused() -> None:
    with pytest.raises(SettingsError, match="SIGNED_URL_SECONDS"):
        load_settings({**PRODUCTION, "CUSTODIAN_SIGNED_URL_SECONDS": "7200"})


def test_dev_idp_cannot_be_enabled_in_production() -> None:
    with pytest.raises(SettingsError, match="DEV_IDP"):
        load_settings({**PRODUCTION, "CUSTODIAN_DEV_IDP": "true"})


def test_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text("f" * 48 + "\n")
    environ = without("CUSTODIAN_SECRET_KEY") | {"CUSTODIAN_SECRET_KEY_FILE": str(secret_file)}
    assert load_settings(environ).secret_key == "f" * 48


def test_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    environ = without("CUSTODIAN_SECRET_KEY") | {
        "CUSTODIAN_SECRET_KEY_FILE": str(tmp_path / "missing")}
    with pytest.raises(SettingsError, match="CUSTODIAN_SECRET_KEY_FILE"):
        load_settings(environ)


def test_demo_generates_persists_and_reuses_its_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {"CUSTODIAN_ENV": "demo", "CUSTODIAN_INSTANCE_DIR": str(tmp_path)}
    first = load_settings(environ)
    assert "generated secrets" in capsys.readouterr().err
    secrets_file = tmp_path / "demo-secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert set(json.loads(secrets_file.read_text())) >= {"SECRET_KEY", "URL_SIGNING_KEY"}
    second = load_settings(environ)
    assert "generated secrets" not in capsys.readouterr().err
    assert first.secret_key == second.secret_key
    assert first.url_signing_key == second.url_signing_key
    assert second.dev_idp_enabled and second.database_url.startswith("sqlite:///")


def test_production_cookies_are_secure_and_dev_idp_is_not_mounted() -> None:
    app = create_app(load_settings(PRODUCTION))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.test_client().get("/dev-idp/.well-known/openid-configuration").status_code == 404


def test_port_variable_sets_the_public_url() -> None:
    assert load_settings({**PRODUCTION, "PORT": "8123"}).public_url == "http://127.0.0.1:8123"
